import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../../src/cli/main.ts';
import { openSshArgs, showCommand } from '../../../src/cli/openssh-args.ts';
import { parseSshConfig, resolveSshTarget } from '../../../src/connectors/ssh-config.ts';
import { findOpenSsh, parseSshG } from '../../../src/connectors/ssh-g.ts';
import type { HostSpec } from '../../../src/inventory/types.ts';

const env = { home: '/home/me', localUser: 'me', exists: () => false, settings: { knownHosts: '/home/me/kh', connectTimeoutMs: 5000 } };
const host = (over: Partial<HostSpec> = {}): HostSpec => ({ name: 'web1', connection: 'ssh', address: 'web1', become: false, vars: {}, groups: [], location: { file: 'inv.yml' }, ...over });
const config = parseSshConfig(
  'Host web1\n  HostName 10.0.0.7\n  User deploy\n  IdentityFile ~/.ssh/deploy\n  IdentitiesOnly yes\nHost bastion\n  HostName 192.0.2.1\n  User jump\n  ProxyCommand corp-tunnel %h %p 50%%\n  IdentityAgent none\n',
  { file: '/home/me/.ssh/config', home: '/home/me' },
);

test('a direct host: every resolved value explicit, no config read (-F none)', (t) => {
  const args = openSshArgs(resolveSshTarget(host({ port: 2222 }), config, env));
  t.deepEqual(args, [
    '-F', 'none', '-o', 'HostName=10.0.0.7', '-p', '2222', '-l', 'deploy', '-i', '/home/me/.ssh/deploy', '-o', 'IdentitiesOnly=yes',
    '-o', 'UserKnownHostsFile=/home/me/kh', '-o', 'GlobalKnownHostsFile=none', '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=5', 'web1',
  ]);
  t.true(openSshArgs(resolveSshTarget(host(), config, env), { acceptNewHostKeys: true }).includes('StrictHostKeyChecking=accept-new'));
});

test('jump hosts become nested ProxyCommands with literal host:port; the first hop keeps its own ProxyCommand; % doubled per level', (t) => {
  const args = openSshArgs(resolveSshTarget(host({ proxyJump: 'bastion,admin@inner:2200' }), config, env));
  const proxy = args.find((a) => a.startsWith('ProxyCommand='))!;
  // the target is reached through inner's ssh, which is reached through bastion's, which runs bastion's own ProxyCommand
  t.true(proxy.startsWith('ProxyCommand=ssh -F none -o HostName=inner -p 2200 -l admin '), proxy);
  t.true(proxy.includes("-o 'ProxyCommand=ssh -F none -o HostName=192.0.2.1 -p 22 -l jump -o IdentityAgent=none "), proxy);
  // 50%% in the config is 50% once cairn expanded it; three ssh processes expand it again (the target's, inner's, bastion's): 2^3 %
  t.true(proxy.includes("-o '\\''ProxyCommand=corp-tunnel 192.0.2.1 22 50%%%%%%%%'\\'' -W inner:2200 bastion'"), proxy);
  t.true(proxy.endsWith('-W 10.0.0.7:22 inner'), proxy);
  t.is(args.at(-1), 'web1');
  const viaCommand = openSshArgs(resolveSshTarget(host({ proxyCommand: 'nc %h %p # 100%%' }), config, env));
  t.true(viaCommand.includes('ProxyCommand=nc 10.0.0.7 22 # 100%%'), 'the expanded command, % escaped for ssh');
  t.is(showCommand('/usr/bin/ssh', ['-o', 'ProxyCommand=nc a 22', 'web1']), "/usr/bin/ssh -o 'ProxyCommand=nc a 22' web1");
});

const ssh = findOpenSsh();

test('OpenSSH reads the arguments back to the same values (ssh -G)', (t) => {
  if (!ssh) return t.pass('ssh is not installed');
  // ssh drops an -i file that does not exist: give it one
  const home = mkdtempSync(join(tmpdir(), 'cairn-ssh-home-'));
  mkdirSync(join(home, '.ssh'));
  writeFileSync(join(home, '.ssh', 'deploy'), 'not read by ssh -G\n', { mode: 0o600 });
  const args = openSshArgs(resolveSshTarget(host({ proxyJump: 'bastion' }), config, { ...env, home }));
  const g = parseSshG(execFileSync(ssh, ['-G', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  t.is(g.get('hostname')?.[0], '10.0.0.7');
  t.is(g.get('user')?.[0], 'deploy');
  t.deepEqual(g.get('identityfile'), [join(home, '.ssh', 'deploy')]);
  t.is(g.get('identitiesonly')?.[0], 'yes');
  t.is(g.get('userknownhostsfile')?.[0], '/home/me/kh');
  // ssh -G prints the ProxyCommand before its own expansion: the escaped %%
  t.regex(g.get('proxycommand')?.[0] ?? '', /^ssh -F none -o HostName=192\.0\.2\.1 .*'ProxyCommand=corp-tunnel 192\.0\.2\.1 22 50%%%%' -W 10\.0\.0\.7:22 bastion$/);
});

test('cairn ssh: one inventory host; an unknown one is a usage error with a suggestion; local hosts are refused', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-ssh-'));
  const file = join(dir, 'inventory.yml');
  writeFileSync(file, 'hosts:\n  web1: { address: 10.0.0.7 }\n  here: { connection: local }\n');
  const err: string[] = [];
  const io = { out: () => undefined, err: (s: string) => void err.push(s), isTTY: false };
  t.is(await main(['ssh', '-i', file, 'web2'], io), 64);
  t.regex(err.join('\n'), /no host 'web2' .*did you mean 'web1'\?/);
  t.is(await main(['ssh', '-i', file, 'here'], io), 64);
  t.regex(err.join('\n'), /uses connection: local, not ssh/);
});
