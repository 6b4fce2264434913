import { promises as fsp } from 'node:fs';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, ParsedKey } from 'ssh2';
import type { SshTarget } from '../ssh-config.ts';
import { fingerprint } from '../host-key.ts';
import { FilteredAgent } from './agent.ts';
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

/**
 * The agent socket for a hop: ssh_config IdentityAgent (a path, or none) wins
 * over the connector's default ($SSH_AUTH_SOCK); `fallback` null: never an agent.
 */
export function agentSocket(t: SshTarget, fallback: string | null | undefined): { socket?: string; why: string } {
  if (fallback === null) return { why: 'not used (this connector never uses an agent)' };
  if (t.identityAgent === 'none') return { why: `not used (IdentityAgent none, ${t.origins.identityAgent ?? 'ssh_config'})` };
  if (t.identityAgent !== undefined) return { socket: t.identityAgent, why: '' };
  if (fallback) return { socket: fallback, why: '' };
  return { why: 'not used (SSH_AUTH_SOCK is not set)' };
}

function firstKey(data: Buffer): ParsedKey | Error | undefined {
  const parsed = sshUtils.parseKey(data);
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

/** The public key of an identity file, from the private key or <file>.pub (for IdentitiesOnly's agent filter). */
async function publicBlob(file: string, privateKey: ParsedKey | undefined): Promise<string | undefined> {
  if (privateKey) return privateKey.getPublicSSH().toString('base64');
  try {
    const pub = firstKey(await fsp.readFile(`${file}.pub`));
    return pub && !(pub instanceof Error) ? pub.getPublicSSH().toString('base64') : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The identity files (readable private keys), then the agent. With
 * IdentitiesOnly yes the agent offers only keys of the identity files (their
 * .pub is enough), like OpenSSH.
 */
export async function authMethods(t: SshTarget, agent: string | null | undefined): Promise<AuthPlan> {
  const methods: AnyAuthMethod[] = [];
  const tried: AuthAttempt[] = [];
  const allowed = new Set<string>();
  for (const file of t.identityFiles) {
    let data: Buffer;
    try {
      data = await fsp.readFile(file);
    } catch (err) {
      const blob = t.identitiesOnly ? await publicBlob(file, undefined) : undefined;
      if (blob) allowed.add(blob);
      tried.push({ what: `key ${file}`, note: errCode(err) === 'ENOENT' ? 'missing' : `unreadable (${errCode(err) ?? (err as Error).message})` });
      continue;
    }
    const parsed = firstKey(data);
    if (parsed instanceof Error || !parsed) {
      const msg = parsed instanceof Error ? parsed.message : 'no key';
      const blob = t.identitiesOnly ? await publicBlob(file, undefined) : undefined;
      if (blob) allowed.add(blob);
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
    allowed.add(parsed.getPublicSSH().toString('base64'));
    methods.push({ type: 'publickey', username: t.user, key: data });
    tried.push({ what: `key ${file} (${parsed.type} ${fingerprint(parsed.getPublicSSH())})`, note: 'rejected' });
  }
  const { socket, why } = agentSocket(t, agent);
  if (!socket) tried.push({ what: 'ssh-agent', note: why });
  else if (!t.identitiesOnly) {
    methods.push({ type: 'agent', username: t.user, agent: socket });
    tried.push({ what: `ssh-agent at ${socket}`, note: 'no accepted key' });
  } else if (allowed.size > 0) {
    methods.push({ type: 'agent', username: t.user, agent: new FilteredAgent(socket, allowed) });
    tried.push({ what: `ssh-agent at ${socket} (IdentitiesOnly yes: only the identity files' keys)`, note: 'no accepted key' });
  } else tried.push({ what: 'ssh-agent', note: `not used (IdentitiesOnly yes, ${t.origins.identitiesOnly ?? 'ssh_config'}, and no identity file's public key is known)` });
  return { methods, tried };
}
