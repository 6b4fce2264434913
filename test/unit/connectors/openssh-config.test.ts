import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandProxyCommand, parseSshConfig, resolveSshTarget, type SshConfig } from '../../../src/connectors/ssh-config.ts';
import { findOpenSsh, openSshLookup, parseSshG, sshGArgs, sshGValues } from '../../../src/connectors/ssh-g.ts';
import { reportConfigNotes, resetConfigNotes } from '../../../src/connectors/config-notes.ts';
import type { HostSpec } from '../../../src/inventory/types.ts';

const HOME = '/home/me';
const env = { home: HOME, localUser: 'me', exists: () => false, environ: { SSH_AUTH_SOCK: '/run/agent.sock', XDG_RUNTIME_DIR: '/run/user/1000' } };
const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/ssh-g/${name}`, import.meta.url), 'utf8');

function host(over: Partial<HostSpec> = {}): HostSpec {
  return { name: 'h', connection: 'ssh', address: 'web1', become: false, vars: {}, groups: [], location: { file: 'inv.yml' }, ...over };
}
const cfg = (text: string): SshConfig => parseSshConfig(text, { file: `${HOME}/.ssh/config`, home: HOME });

test('ProxyCommand tokens: %h %p %r %n %% substituted raw, as OpenSSH does', (t) => {
  const target = { hostname: '10.0.0.7', port: 2222, user: 'deploy', alias: 'web1' };
  t.is(expandProxyCommand('ssh -W %h:%p -l %r jump # %n 100%%', target, 'x'), 'ssh -W 10.0.0.7:2222 -l deploy jump # web1 100%');
  t.is(expandProxyCommand("sh -c 'nc %h %p'", target, 'x'), "sh -c 'nc 10.0.0.7 2222'");
});

test('ProxyCommand: an unknown token is refused, naming the command and where it is set', (t) => {
  const err = t.throws(() => expandProxyCommand('nc %h %d', { hostname: 'a', port: 22, user: 'u', alias: 'a' }, '/home/me/.ssh/config:3'));
  t.regex(err!.message, /ProxyCommand nc %h %d \(\/home\/me\/\.ssh\/config:3\): unknown token %d; OpenSSH's ProxyCommand accepts %%, %h, %n, %p and %r/);
});

test('ProxyCommand: host and user names with shell metacharacters are refused', (t) => {
  for (const [over, what] of [
    [{ hostname: 'a;reboot' }, 'host name'],
    [{ user: '$(id)' }, 'user'],
    [{ alias: 'x y' }, 'host alias'],
    [{ hostname: '-oProxyCommand=x' }, 'host name'],
  ] as const) {
    const err = t.throws(() => expandProxyCommand('nc %h %p %r %n', { ...{ hostname: 'a', port: 22, user: 'u', alias: 'a' }, ...over }, 'inventory'));
    t.true(err!.message.includes(`the ${what} `), err!.message);
    t.regex(err!.message, /characters a shell would act on/);
  }
  // not substituted: not checked
  t.is(expandProxyCommand('nc %h %p', { hostname: 'a', port: 22, user: 'bad user', alias: 'a' }, 'x'), 'nc a 22');
});

test('resolve: ProxyCommand from ssh_config, expanded for the host', (t) => {
  const r = resolveSshTarget(host(), cfg('Host web1\n  HostName 10.0.0.7\n  User deploy\n  ProxyCommand ssh -W %h:%p bastion\n'), env);
  t.is(r.proxyCommand, 'ssh -W 10.0.0.7:22 bastion');
  t.is(r.origins.proxyCommand, `${HOME}/.ssh/config:4`);
  t.deepEqual(r.jumps, []);
});

test('resolve: ProxyCommand and ProxyJump: the first obtained wins, none included', (t) => {
  const commandFirst = resolveSshTarget(host(), cfg('Host web1\n  ProxyCommand nc %h %p\nHost *\n  ProxyJump bastion\n'), env);
  t.is(commandFirst.proxyCommand, 'nc web1 22');
  t.deepEqual(commandFirst.jumps, []);
  const jumpFirst = resolveSshTarget(host(), cfg('Host web1\n  ProxyJump bastion\n  ProxyCommand nc %h %p\n'), env);
  t.is(jumpFirst.proxyCommand, undefined);
  t.deepEqual(jumpFirst.jumps.map((j) => j.hostname), ['bastion']);
  const none = resolveSshTarget(host(), cfg('Host web1\n  ProxyCommand none\nHost *\n  ProxyJump bastion\n  ProxyCommand nc %h %p\n'), env);
  t.is(none.proxyCommand, undefined);
  t.deepEqual(none.jumps, []);
});

test('resolve: the inventory proxy_jump / proxy_command wins over ssh_config (like ssh -J on the command line)', (t) => {
  const c = cfg('Host web1\n  ProxyCommand nc %h %p\n');
  const viaJump = resolveSshTarget(host({ proxyJump: 'admin@bastion' }), c, env);
  t.is(viaJump.proxyCommand, undefined);
  t.is(viaJump.jumps[0]!.user, 'admin');
  const viaCommand = resolveSshTarget(host({ proxyCommand: 'ssh -W %h:%p -l %r gw', user: 'ops' }), cfg('Host web1\n  ProxyJump bastion\n'), env);
  t.is(viaCommand.proxyCommand, 'ssh -W web1:22 -l ops gw');
  t.is(viaCommand.origins.proxyCommand, 'inventory');
  t.deepEqual(viaCommand.jumps, []);
  const disabled = resolveSshTarget(host({ proxyJump: 'none' }), c, env);
  t.is(disabled.proxyCommand, undefined);
});

test('resolve: the first jump host keeps its own ProxyCommand, later hops do not', (t) => {
  const r = resolveSshTarget(host({ proxyJump: 'b1,b2' }), cfg('Host b1 b2\n  ProxyCommand nc %h %p\n'), env);
  t.is(r.jumps[0]!.proxyCommand, 'nc b1 22');
  t.is(r.jumps[1]!.proxyCommand, undefined);
});

test('resolve: CertificateFile is refused before connecting, with file:line and what to do', (t) => {
  const err = t.throws(() => resolveSshTarget(host(), cfg('Host *\n  IdentityFile ~/.ssh/id\n  CertificateFile ~/.ssh/id-cert.pub\n'), env));
  t.regex(err!.message, /CertificateFile ~\/\.ssh\/id-cert\.pub \(\/home\/me\/\.ssh\/config:3\) applies to web1/);
  t.regex(err!.message, /cannot log in with an OpenSSH user certificate/);
  t.regex(err!.message, /Fix: remove the CertificateFile line/);
});

test('resolve: IdentitiesOnly, IdentityAgent (path with tokens and ${VAR}, SSH_AUTH_SOCK, none), HashKnownHosts', (t) => {
  const r = resolveSshTarget(host(), cfg('Host web1\n  IdentitiesOnly yes\n  IdentityAgent ${XDG_RUNTIME_DIR}/agent-%r.sock\n  HashKnownHosts yes\n'), env);
  t.true(r.identitiesOnly);
  t.true(r.hashKnownHosts);
  t.is(r.identityAgent, '/run/user/1000/agent-me.sock');
  t.is(resolveSshTarget(host(), cfg('Host *\n  IdentityAgent SSH_AUTH_SOCK\n'), env).identityAgent, '/run/agent.sock');
  t.is(resolveSshTarget(host(), cfg('Host *\n  IdentityAgent none\n'), env).identityAgent, 'none');
  const plain = resolveSshTarget(host(), cfg(''), env);
  t.false(plain.identitiesOnly);
  t.false(plain.hashKnownHosts);
  t.is(plain.identityAgent, undefined);
  t.throws(() => resolveSshTarget(host(), cfg('Host *\n  IdentityAgent ${NOPE}/s\n'), env), { message: /environment variable NOPE is not set/ });
});

test('the built-in reader notes every keyword it does not honour, with file:line', (t) => {
  const c = cfg('Host *\n  ServerAliveInterval 15\n  User u\nMatch host x\n  User v\n');
  t.deepEqual(c.notes, [
    `${HOME}/.ssh/config:2: ServerAliveInterval is not honoured by cairn's own ssh_config reader; ignored`,
    `${HOME}/.ssh/config:4: "Match host x" is not supported by cairn's own ssh_config reader; the block was skipped`,
  ]);
});

test('the notes are printed once per run, under one header', (t) => {
  resetConfigNotes();
  const lines: string[] = [];
  const write = (l: string): void => void lines.push(l);
  reportConfigNotes(['a:1: X', 'a:2: Y'], 'the OpenSSH client (ssh) is not installed', write);
  reportConfigNotes(['a:1: X', 'a:2: Y'], 'the OpenSSH client (ssh) is not installed', write);
  reportConfigNotes(['a:1: X', 'a:3: Z'], 'the OpenSSH client (ssh) is not installed', write);
  t.deepEqual(lines, [
    'cairn: the OpenSSH client (ssh) is not installed: cairn read the ssh config itself, and did not honour:',
    '  a:1: X',
    '  a:2: Y',
    'cairn: the OpenSSH client (ssh) is not installed: cairn read the ssh config itself, and did not honour:',
    '  a:3: Z',
  ]);
});

test('ssh -G output: the values cairn uses, defaults (the -F /dev/null output) left out', (t) => {
  const base = parseSshG(fixture('baseline.txt'));
  const v = sshGValues(parseSshG(fixture('target.txt')), base, 'ssh -G -F config');
  t.is(v.hostname, '10.0.0.7');
  t.is(v.port, 2222);
  t.is(v.user, 'deploy', 'from the Match block');
  t.deepEqual(v.identityFiles, ['~/.ssh/deploy_ed25519']);
  t.is(v.proxyCommand, 'ssh -W %h:%p bastion', 'raw: cairn expands the tokens');
  t.is(v.proxyJump, undefined, 'the ProxyJump after it was not obtained');
  t.true(v.identitiesOnly);
  t.is(v.identityAgent, 'none');
  t.true(v.hashKnownHosts);
  t.deepEqual(v.userKnownHostsFiles, ['/root/.ssh/fleet_known_hosts']);
  t.is(v.strictHostKeyChecking, 'accept-new');
  t.is(v.connectTimeoutSec, 7);
  t.is(v.origins.user, 'ssh -G -F config');
  const jumpy = sshGValues(parseSshG(fixture('jumpy.txt')), base, 'ssh -G');
  t.is(jumpy.proxyJump, 'a@b:2,c');
  t.deepEqual(jumpy.identityFiles, [], "OpenSSH's default key list is not a configured IdentityFile");
  t.is(jumpy.userKnownHostsFiles, undefined);
  t.is(jumpy.strictHostKeyChecking, undefined, 'ask is the default');
  t.is(jumpy.connectTimeoutSec, undefined);
  t.false(jumpy.identitiesOnly);
});

test('ssh -G argv: -F, -p and -l as OpenSSH command-line options, the name after --', (t) => {
  t.deepEqual(sshGArgs('web1', { port: 2222, user: 'ops' }, '/etc/cfg'), ['-G', '-F', '/etc/cfg', '-p', '2222', '-l', 'ops', '--', 'web1']);
  t.deepEqual(sshGArgs('web1', {}, undefined), ['-G', '--', 'web1']);
});

const ssh = findOpenSsh();

test('live ssh -G: a Match block applies, the inventory user is seen by Match user, a bad config is refused loudly', (t) => {
  if (!ssh) return t.pass('ssh is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'cairn-sshg-'));
  const file = join(dir, 'config');
  writeFileSync(file, 'Match host web1 user ops\n  IdentityFile /keys/ops\nMatch host web1\n  User deploy\n  HostName 10.9.8.7\n  ProxyCommand nc %h %p\n');
  const lookup = openSshLookup(ssh, file);
  const r = resolveSshTarget(host(), lookup, env);
  t.is(r.user, 'deploy');
  t.is(r.hostname, '10.9.8.7');
  t.is(r.proxyCommand, 'nc 10.9.8.7 22');
  t.deepEqual(r.identityFiles, []);
  const ops = resolveSshTarget(host({ user: 'ops', port: 2200 }), lookup, env);
  t.is(ops.user, 'ops');
  t.deepEqual(ops.identityFiles, ['/keys/ops'], 'Match user saw the inventory user (-l)');
  t.is(ops.proxyCommand, 'nc 10.9.8.7 2200');
  writeFileSync(file, 'Host *\n  NoSuchOption yes\n');
  const err = t.throws(() => openSshLookup(ssh, file)('web1', {}));
  t.regex(err!.message, /OpenSSH refused the ssh settings: .*ssh -G -F .* failed \(exit 255\): .*line 2: Bad configuration option: nosuchoption/);
});

test('live ssh -G agrees with the fixtures (same OpenSSH keys)', (t) => {
  if (!ssh) return t.pass('ssh is not installed');
  const out = parseSshG(execFileSync(ssh, ['-G', '-F', '/dev/null', 'target'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  for (const k of ['hostname', 'port', 'user', 'identityfile', 'identitiesonly', 'hashknownhosts', 'stricthostkeychecking', 'userknownhostsfile', 'connecttimeout']) t.true(out.has(k), k);
});
