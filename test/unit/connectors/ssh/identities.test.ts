import test from 'ava';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { agentSocket, authMethods } from '../../../../src/connectors/ssh/auth.ts';
import { FilteredAgent } from '../../../../src/connectors/ssh/agent.ts';
import type { SshTarget } from '../../../../src/connectors/ssh-config.ts';
import { keyPair } from '../../../helpers/fake-ssh-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'cairn-ids-'));
const mine = keyPair();
const other = keyPair();
const mineFile = join(dir, 'mine');
const otherFile = join(dir, 'other');
writeFileSync(mineFile, mine.private, { mode: 0o600 });
writeFileSync(otherFile, other.private, { mode: 0o600 });
const blob = (pub: string): string => (ssh2.utils.parseKey(pub) as ssh2.ParsedKey).getPublicSSH().toString('base64');

function target(over: Partial<SshTarget> = {}): SshTarget {
  return {
    alias: 'web1', hostname: 'web1', port: 22, user: 'root', identityFiles: [mineFile], knownHostsFiles: [], strictHostKeyChecking: 'yes',
    identitiesOnly: false, hashKnownHosts: false, origins: { identitiesOnly: '/cfg:3', identityAgent: '/cfg:4' }, notes: [], ...over,
  };
}

test('the agent socket: IdentityAgent wins, none disables, the connector may forbid any agent', (t) => {
  t.deepEqual(agentSocket(target(), '/run/default.sock'), { socket: '/run/default.sock', why: '' });
  t.deepEqual(agentSocket(target({ identityAgent: '/run/other.sock' }), '/run/default.sock'), { socket: '/run/other.sock', why: '' });
  t.regex(agentSocket(target({ identityAgent: 'none' }), '/run/default.sock').why, /IdentityAgent none, \/cfg:4/);
  t.is(agentSocket(target({ identityAgent: '/run/other.sock' }), null).socket, undefined);
  t.regex(agentSocket(target(), undefined).why, /SSH_AUTH_SOCK is not set/);
});

test('IdentitiesOnly no: the key files, then every agent key', async (t) => {
  const plan = await authMethods(target(), '/run/a.sock');
  t.deepEqual(plan.methods.map((m) => m.type), ['publickey', 'agent']);
  t.is((plan.methods[1] as { agent: unknown }).agent, '/run/a.sock');
});

test('IdentitiesOnly yes: the agent only for the identity files\' keys (a missing private key with its .pub counts)', async (t) => {
  const plan = await authMethods(target({ identitiesOnly: true }), '/run/a.sock');
  t.deepEqual(plan.methods.map((m) => m.type), ['publickey', 'agent']);
  t.true((plan.methods[1] as { agent: unknown }).agent instanceof FilteredAgent);
  const pubOnly = join(dir, 'gone');
  writeFileSync(`${pubOnly}.pub`, other.public);
  const viaPub = await authMethods(target({ identitiesOnly: true, identityFiles: [pubOnly] }), '/run/a.sock');
  t.deepEqual(viaPub.methods.map((m) => m.type), ['agent'], 'the key is only in the agent: offered through it');
  const nothing = await authMethods(target({ identitiesOnly: true, identityFiles: [join(dir, 'none')] }), '/run/a.sock');
  t.deepEqual(nothing.methods, []);
  t.regex(nothing.tried.map((a) => a.note).join('; '), /not used \(IdentitiesOnly yes, \/cfg:3, and no identity file's public key is known\)/);
});

let agent: ChildProcess | undefined;
test.after.always(() => {
  if (agent?.pid) process.kill(agent.pid);
});

test('the filtered agent lists only the allowed keys of a real ssh-agent', async (t) => {
  const sock = join(dir, 'agent.sock');
  try {
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  } catch {
    return t.pass('ssh-agent is not installed');
  }
  const spawned = await new Promise<boolean>((resolve) => {
    agent!.once('error', () => resolve(false));
    const poll = setInterval(() => {
      if (existsSync(sock)) {
        clearInterval(poll);
        resolve(true);
      }
    }, 20);
  });
  if (!spawned) return t.pass('ssh-agent is not installed');
  execFileSync('ssh-add', [mineFile, otherFile], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
  const all = await new Promise<ssh2.ParsedKey[]>((resolve, reject) => new ssh2.OpenSSHAgent(sock).getIdentities((err, keys) => (err ? reject(err) : resolve((keys ?? []) as ssh2.ParsedKey[]))));
  t.is(all.length, 2);
  const filtered = new FilteredAgent(sock, new Set([blob(mine.public)]));
  const keys = await new Promise<ssh2.ParsedKey[]>((resolve, reject) => filtered.getIdentities((err, k) => (err ? reject(err) : resolve((k ?? []) as ssh2.ParsedKey[]))));
  t.deepEqual(keys.map((k) => k.getPublicSSH().toString('base64')), [blob(mine.public)]);
});
