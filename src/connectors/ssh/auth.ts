import { promises as fsp } from 'node:fs';
import ssh2 from 'ssh2';
import type { AnyAuthMethod } from 'ssh2';
import type { SshTarget } from '../ssh-config.ts';
import { fingerprint } from '../host-key.ts';
import { errCode } from './hop.ts';

const { utils: sshUtils } = ssh2;

/** One way of logging in that will be offered, and what to say if it fails. */
export interface AuthAttempt {
  what: string;
  note: string;
}

/** How the connection logs in: the methods in order, and a note on every key considered (used or not). */
export interface AuthPlan {
  methods: AnyAuthMethod[];
  tried: AuthAttempt[];
}

/** The identity files (readable private keys), then the agent (`agent`: its socket, undefined: none). */
export async function authMethods(t: SshTarget, agent: string | undefined): Promise<AuthPlan> {
  const methods: AnyAuthMethod[] = [];
  const tried: AuthAttempt[] = [];
  for (const file of t.identityFiles) {
    let data: Buffer;
    try {
      data = await fsp.readFile(file);
    } catch (err) {
      tried.push({ what: `key ${file}`, note: errCode(err) === 'ENOENT' ? 'missing' : `unreadable (${errCode(err) ?? (err as Error).message})` });
      continue;
    }
    let parsed = sshUtils.parseKey(data);
    if (Array.isArray(parsed)) parsed = parsed[0];
    if (parsed instanceof Error || !parsed) {
      const msg = parsed instanceof Error ? parsed.message : 'no key';
      tried.push({
        what: `key ${file}`,
        note: /encrypted|passphrase/i.test(msg) ? 'encrypted: cairn cannot ask for a passphrase, load it into ssh-agent' : `not a private key ssh2 can read (${msg})`,
      });
      continue;
    }
    if (!parsed.isPrivateKey()) {
      tried.push({ what: `key ${file}`, note: 'is a public key, not a private key' });
      continue;
    }
    methods.push({ type: 'publickey', username: t.user, key: data });
    tried.push({ what: `key ${file} (${parsed.type} ${fingerprint(parsed.getPublicSSH())})`, note: 'rejected' });
  }
  if (agent) {
    methods.push({ type: 'agent', username: t.user, agent });
    tried.push({ what: `ssh-agent at ${agent}`, note: 'no accepted key' });
  } else tried.push({ what: 'ssh-agent', note: 'not used (SSH_AUTH_SOCK is not set)' });
  return { methods, tried };
}
