import test from 'ava';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadSshConfig,
  lookupSshConfig,
  parseProxyJump,
  parseSshConfig,
  resolveSshTarget,
  splitConfigLine,
  type SshConfig,
} from '../../../src/connectors/ssh-config.ts';
import type { HostSpec } from '../../../src/inventory/types.ts';

const HOME = '/home/me';
const env = { home: HOME, localUser: 'me', exists: () => false };

function host(over: Partial<HostSpec> = {}): HostSpec {
  return { name: 'h', connection: 'ssh', address: 'web1', become: false, vars: {}, groups: [], location: { file: 'inv.yml' }, ...over };
}

function cfg(text: string, files: Record<string, string> = {}): SshConfig {
  return parseSshConfig(text, {
    file: `${HOME}/.ssh/config`,
    home: HOME,
    readFile: (f) => {
      const t = files[f];
      if (t === undefined) throw Object.assign(new Error(`ENOENT ${f}`), { code: 'ENOENT' });
      return t;
    },
    glob: (p) => Object.keys(files).filter((f) => new RegExp(`^${p.replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*')}$`).test(f)).sort(),
  });
}

test('line splitting: = separator, quotes, comments, case', (t) => {
  t.deepEqual(splitConfigLine('  HostName=example.org'), { keyword: 'HostName', args: ['example.org'], raw: 'example.org' });
  t.deepEqual(splitConfigLine('IdentityFile "~/my keys/id" # a comment'), { keyword: 'IdentityFile', args: ['~/my keys/id'], raw: '"~/my keys/id" # a comment' });
  t.deepEqual(splitConfigLine('Host a b   !c'), { keyword: 'Host', args: ['a', 'b', '!c'], raw: 'a b   !c' });
  t.deepEqual(splitConfigLine('Port = 2222'), { keyword: 'Port', args: ['2222'], raw: '2222' });
  t.deepEqual(splitConfigLine('ProxyCommand sh -c "nc %h %p"'), { keyword: 'ProxyCommand', args: ['sh', '-c', 'nc %h %p'], raw: 'sh -c "nc %h %p"' });
  t.is(splitConfigLine('# only a comment'), undefined);
  t.is(splitConfigLine('   '), undefined);
});

test('first obtained value wins, across Host blocks, like OpenSSH', (t) => {
  const c = cfg(`
Host web1
  User deploy
  Port 2201
Host web*
  User other
  Port 2299
  HostName %h.lan
Host *
  User fallback
  IdentityFile ~/.ssh/id_global
`);
  const v = lookupSshConfig(c, 'web1');
  t.is(v.user, 'deploy');
  t.is(v.port, 2201);
  t.is(v.hostname, '%h.lan');
  t.deepEqual(v.identityFiles, ['~/.ssh/id_global']);
  t.is(v.origins.user, `${HOME}/.ssh/config:3`);
  const w = lookupSshConfig(c, 'web2');
  t.is(w.user, 'other');
  t.is(w.port, 2299);
});

test('keywords are case-insensitive; global lines before any Host apply to all', (t) => {
  const c = cfg('PORT 2000\nhost x\n  USER u\n');
  t.is(lookupSshConfig(c, 'x').port, 2000);
  t.is(lookupSshConfig(c, 'x').user, 'u');
  t.is(lookupSshConfig(c, 'y').user, undefined);
});

test('patterns: ? and negation', (t) => {
  const c = cfg(`
Host *.example !bastion.example
  ProxyJump bastion.example
Host db?
  User dbadmin
`);
  t.is(lookupSshConfig(c, 'app.example').proxyJump, 'bastion.example');
  t.is(lookupSshConfig(c, 'bastion.example').proxyJump, undefined);
  t.is(lookupSshConfig(c, 'db1').user, 'dbadmin');
  t.is(lookupSshConfig(c, 'db12').user, undefined);
});

test('Host patterns ignore case (cairn lower-cases neither side; OpenSSH lower-cases the host name only)', (t) => {
  const c = cfg('Host WEB? !Web2\n  User upper\n');
  t.is(lookupSshConfig(c, 'web1').user, 'upper');
  t.is(lookupSshConfig(c, 'WEB1').user, 'upper');
  t.is(lookupSshConfig(c, 'web2').user, undefined);
});

test('IdentityFile accumulates in order from every matching block', (t) => {
  const c = cfg('Host a\n IdentityFile ~/.ssh/a1\n IdentityFile ~/.ssh/a2\nHost *\n IdentityFile ~/.ssh/all\n');
  t.deepEqual(lookupSshConfig(c, 'a').identityFiles, ['~/.ssh/a1', '~/.ssh/a2', '~/.ssh/all']);
});

test('Match blocks are skipped with a note', (t) => {
  const c = cfg('Match host foo exec "true"\n  User matched\nHost foo\n  User plain\n');
  const v = lookupSshConfig(c, 'foo');
  t.is(v.user, 'plain');
  t.true(v.notes.some((n) => /config:1: "Match host foo exec true" is not supported/.test(n)));
});

test('Include: relative to ~/.ssh, globs, conditional inside a Host block, file-scoped Host lines', (t) => {
  const files = {
    [`${HOME}/.ssh/conf.d/10-a.conf`]: 'Host a\n  User from-a\n',
    [`${HOME}/.ssh/conf.d/20-b.conf`]: 'Host b\n  User from-b\n',
    [`${HOME}/.ssh/only-x`]: 'Port 4444\n',
    '/etc/abs.conf': 'Host abs\n  HostName abs.example\n',
  };
  const c = cfg('Include conf.d/*.conf /etc/abs.conf missing.conf\nHost x\n  Include only-x\nHost *\n  User default\n', files);
  t.is(lookupSshConfig(c, 'a').user, 'from-a');
  t.is(lookupSshConfig(c, 'b').user, 'from-b');
  t.is(lookupSshConfig(c, 'abs').hostname, 'abs.example');
  t.is(lookupSshConfig(c, 'x').port, 4444);
  t.is(lookupSshConfig(c, 'y').port, undefined, 'include inside Host x only applies to x');
  t.is(lookupSshConfig(c, 'y').user, 'default');
  t.is(lookupSshConfig(c, 'b').origins.user, `${HOME}/.ssh/conf.d/20-b.conf:2`);
});

test('StrictHostKeyChecking, UserKnownHostsFile, ConnectTimeout', (t) => {
  const c = cfg('Host *\n StrictHostKeyChecking accept-new\n UserKnownHostsFile ~/.ssh/kh1 ~/.ssh/kh2\n ConnectTimeout 7\n');
  const v = lookupSshConfig(c, 'x');
  t.is(v.strictHostKeyChecking, 'accept-new');
  t.deepEqual(v.userKnownHostsFiles, ['~/.ssh/kh1', '~/.ssh/kh2']);
  t.is(v.connectTimeoutSec, 7);
  t.is(lookupSshConfig(cfg('StrictHostKeyChecking no\n'), 'x').strictHostKeyChecking, 'no');
  t.is(lookupSshConfig(cfg('StrictHostKeyChecking maybe\n'), 'x').strictHostKeyChecking, undefined);
});

test('ProxyJump parsing', (t) => {
  t.deepEqual(parseProxyJump('none'), []);
  t.deepEqual(parseProxyJump(undefined), []);
  t.deepEqual(parseProxyJump('bastion'), [{ host: 'bastion' }]);
  t.deepEqual(parseProxyJump('ops@b1:2222,ssh://root@[fe80::1]:22,b3'), [
    { user: 'ops', host: 'b1', port: 2222 },
    { user: 'root', host: 'fe80::1', port: 22 },
    { host: 'b3' },
  ]);
  t.throws(() => parseProxyJump('b1:notaport'), { message: /bad ProxyJump hop/ });
});

test('resolve: ssh_config fills what the inventory does not set; defaults last', (t) => {
  const c = cfg(`
Host web1
  HostName %h.internal
  User cfguser
  Port 2200
  IdentityFile ~/.ssh/id_%h_%u
  IdentityFile %d/.ssh/second
  ProxyJump jump@bastion:2022
  UserKnownHostsFile ~/.ssh/kh_fleet
  ConnectTimeout 3
Host bastion
  HostName bastion.example
  IdentityFile ~/.ssh/bastion_key
`);
  const r = resolveSshTarget(host(), c, env);
  t.is(r.name, 'h');
  t.is(r.alias, 'web1');
  t.is(r.hostname, 'web1.internal');
  t.is(r.user, 'cfguser');
  t.is(r.port, 2200);
  t.deepEqual(r.identityFiles, [`${HOME}/.ssh/id_web1.internal_me`, `${HOME}/.ssh/second`]);
  t.deepEqual(r.knownHostsFiles, [`${HOME}/.ssh/kh_fleet`]);
  t.is(r.connectTimeoutMs, 3000);
  t.is(r.jumps.length, 1);
  t.like(r.jumps[0], { alias: 'bastion', hostname: 'bastion.example', user: 'jump', port: 2022, identityFiles: [`${HOME}/.ssh/bastion_key`] });
  t.is(r.origins.user, `${HOME}/.ssh/config:4`);
});

test('resolve: inventory wins over ssh_config', (t) => {
  const c = cfg('Host web1\n User cfguser\n Port 2200\n IdentityFile ~/.ssh/cfgkey\n ProxyJump bastion\n ConnectTimeout 3\n');
  const r = resolveSshTarget(
    host({ user: 'root', port: 22, identity: ['~/inv_key'], proxyJump: 'none' }),
    c,
    { ...env, settings: { knownHosts: '/etc/cairn/known_hosts', connectTimeoutMs: 9000 } },
  );
  t.is(r.user, 'root');
  t.is(r.port, 22);
  t.deepEqual(r.identityFiles, [`${HOME}/inv_key`, `${HOME}/.ssh/cfgkey`], 'inventory keys first, then ssh_config keys');
  t.deepEqual(r.jumps, [], 'inventory proxyJump none disables the ssh_config one');
  t.deepEqual(r.knownHostsFiles, ['/etc/cairn/known_hosts']);
  t.is(r.connectTimeoutMs, 9000);
  t.is(r.origins.user, 'inventory');
  t.is(r.origins.proxyJump, 'inventory');
});

test('resolve: defaults (port 22, local user, existing ~/.ssh/id_* keys, ~/.ssh/known_hosts, strict)', (t) => {
  const r = resolveSshTarget(host({ address: '10.0.0.9' }), undefined, { ...env, exists: (f) => f.endsWith('id_ed25519') });
  t.is(r.hostname, '10.0.0.9');
  t.is(r.port, 22);
  t.is(r.user, 'me');
  t.deepEqual(r.identityFiles, [`${HOME}/.ssh/id_ed25519`]);
  t.deepEqual(r.knownHostsFiles, [`${HOME}/.ssh/known_hosts`]);
  t.is(r.strictHostKeyChecking, 'yes');
  t.is(r.connectTimeoutMs, undefined);
  t.deepEqual(r.jumps, []);
});

test('resolve: a ProxyJump chain of several hops, each resolved through ssh_config', (t) => {
  const c = cfg('Host b1\n HostName 10.1.0.1\n User ops\nHost b2\n Port 2022\n');
  const r = resolveSshTarget(host({ proxyJump: 'b1,admin@b2' }), c, env);
  t.deepEqual(
    r.jumps.map((j) => `${j.user}@${j.hostname}:${j.port}`),
    ['ops@10.1.0.1:22', 'admin@b2:2022'],
  );
});

test('resolve: jump hosts try their own keys, then the host inventory keys', (t) => {
  const c = cfg('Host b1\n IdentityFile ~/.ssh/b1\n');
  const r = resolveSshTarget(host({ proxyJump: 'b1,b2', identity: ['/keys/inv'] }), c, env);
  t.deepEqual(r.jumps[0]!.identityFiles, [`${HOME}/.ssh/b1`, '/keys/inv']);
  t.deepEqual(r.jumps[1]!.identityFiles, ['/keys/inv']);
});

test('resolve: a malformed ProxyJump is reported', (t) => {
  t.throws(() => resolveSshTarget(host({ proxyJump: 'a:b:c' }), undefined, env), { message: /bad ProxyJump/ });
});

test('loadSshConfig reads files from disk, with Include relative to ~/.ssh', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'cairn-home-'));
  mkdirSync(join(home, '.ssh', 'conf.d'), { recursive: true });
  writeFileSync(join(home, '.ssh', 'config'), 'Include conf.d/*\nHost *\n User last\n');
  writeFileSync(join(home, '.ssh', 'conf.d', 'a'), 'Host a\n User ua\n');
  const c = loadSshConfig(undefined, { home });
  t.is(lookupSshConfig(c, 'a').user, 'ua');
  t.is(lookupSshConfig(c, 'b').user, 'last');
  const missing = loadSshConfig(undefined, { home: join(home, 'nope') });
  t.deepEqual(missing.notes, []);
  const explicitMissing = loadSshConfig(join(home, 'nope'), { home });
  t.regex(explicitMissing.notes[0]!, /cannot read ssh config/);
});
