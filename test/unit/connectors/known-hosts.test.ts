import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync, readdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendKnownHost,
  checkHostKey,
  entryMatches,
  formatKnownHostsLine,
  hashKnownHostName,
  knownHostName,
  knownKeyTypes,
  loadKnownHosts,
  parseKnownHosts,
  patternListMatches,
} from '../../../src/connectors/known-hosts.ts';
import { fingerprint, keyTypeOf, preferredHostKeyAlgorithms } from '../../../src/connectors/host-key.ts';

// keys made with ssh-keygen; fingerprints from `ssh-keygen -lf`
const K1 = 'AAAAC3NzaC1lZDI1NTE5AAAAINd18+Q1W/oKVfy1t7/yO7mpd0sbvzvHJmlwnwLRchVg';
const K1_FP = 'SHA256:NnAVmEzucoqeK1ymcp+564yUbEuYNyV3eZlhFmQs3BA';
const K2 = 'AAAAC3NzaC1lZDI1NTE5AAAAICgUKu5soENTj5Jp73Ap/rAJawtH0D1Q5iRaHJr+wzQZ';
const K2_FP = 'SHA256:wtSnlD64uUg3JhSB2RdGxutUlMAVHwyx58dimk3unfM';
const K3 = 'AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBH2fWQFG+WsyxyxXpWiIzKoaYPBGKt4nmfJpUdZEgaBR+StRMPFgxV/naT6DCSJSwls0lH4WlM8dxvafzWKlwVw=';
const K3_FP = 'SHA256:tdrAHtUjjZIrSPbq/kWMPbbYAmetATYI9WFBpcb9Uak';
const k1 = Buffer.from(K1, 'base64');
const k2 = Buffer.from(K2, 'base64');
const k3 = Buffer.from(K3, 'base64');
// `ssh-keygen -H` of "[10.0.0.5]:2222 <K1>" and "foo.example <K1>"
const HASHED = `|1|r2e+Ms3oX+9SIdGioejFmQeWsms=|SRv8gjZ81WtL88mJLgbdYRX/9EY= ssh-ed25519 ${K1}
|1|FYNgiRTqgjm/faJwndPpb914s/w=|19alcruSRlWVjJ6OSBK7goqChtA= ssh-ed25519 ${K1}
`;

test('key type and OpenSSH fingerprints from the raw blob', (t) => {
  t.is(keyTypeOf(k1), 'ssh-ed25519');
  t.is(keyTypeOf(k3), 'ecdsa-sha2-nistp256');
  t.is(fingerprint(k1), K1_FP);
  t.is(fingerprint(k2), K2_FP);
  t.is(fingerprint(k3), K3_FP);
  t.is(keyTypeOf(Buffer.from('garbage')), undefined);
});

test('names: port 22 is bare, other ports are [host]:port, lower-cased', (t) => {
  t.is(knownHostName('Foo.Example'), 'foo.example');
  t.is(knownHostName('10.0.0.5', 22), '10.0.0.5');
  t.is(knownHostName('10.0.0.5', 2222), '[10.0.0.5]:2222');
});

test('wildcards and negation like OpenSSH', (t) => {
  t.true(patternListMatches('web1.example', ['*.example']));
  t.true(patternListMatches('web1', ['web?']));
  t.false(patternListMatches('web10', ['web?']));
  t.true(patternListMatches('WEB1', ['web1']), 'case-insensitive');
  t.false(patternListMatches('WEB2.example', ['*.example', '!web*']), 'negation ignores case too');
  t.true(patternListMatches('db.example', ['*.example', '!web*.example']));
  t.false(patternListMatches('web2.example', ['*.example', '!web*.example']));
  t.false(patternListMatches('x', ['!y']), 'only negated patterns never match');
});

test('parse plain lines: comma lists, ports, comments, markers and bad lines', (t) => {
  const kh = parseKnownHosts(
    [
      '# comment',
      '',
      `a.example,10.0.0.1 ssh-ed25519 ${K1} me@laptop`,
      `[10.0.0.5]:2222 ssh-ed25519 ${K2}`,
      `@revoked * ssh-ed25519 ${K2}`,
      `@cert-authority *.example ecdsa-sha2-nistp256 ${K3}`,
      'broken-line',
      `x ssh-rsa ${K1}`,
      `@weird x ssh-ed25519 ${K1}`,
    ].join('\n'),
    '/kh',
  );
  t.is(kh.entries.length, 4);
  t.deepEqual(kh.entries[0]!.names, { kind: 'patterns', patterns: ['a.example', '10.0.0.1'] });
  t.is(kh.entries[0]!.comment, 'me@laptop');
  t.is(kh.entries[0]!.line, 3);
  t.is(kh.entries[2]!.marker, 'revoked');
  t.is(kh.entries[3]!.marker, 'cert-authority');
  t.deepEqual(
    kh.problems.map((p) => p.line),
    [7, 8, 9],
  );
  t.regex(kh.problems[1]!.message, /says type ssh-ed25519 but the line says ssh-rsa/);
});

test('hashed names match the right host and port only', (t) => {
  const kh = parseKnownHosts(HASHED, '/kh');
  t.is(kh.entries.length, 2);
  t.true(entryMatches(kh.entries[0]!, '[10.0.0.5]:2222'));
  t.false(entryMatches(kh.entries[0]!, '10.0.0.5'));
  t.false(entryMatches(kh.entries[0]!, '[10.0.0.5]:22'));
  t.true(entryMatches(kh.entries[1]!, 'foo.example'));
  t.true(entryMatches(kh.entries[1]!, 'FOO.example'), 'names are lower-cased before hashing');
  t.is(checkHostKey(kh, '10.0.0.5', 2222, k1).status, 'known');
  t.is(checkHostKey(kh, '10.0.0.5', 22, k1).status, 'unknown');
  t.is(checkHostKey(kh, '10.0.0.5', 2222, k2).status, 'mismatch');
});

test('our own hashing round-trips', (t) => {
  const line = `${hashKnownHostName('[h]:2200')} ssh-ed25519 ${K1}`;
  const kh = parseKnownHosts(line);
  t.is(checkHostKey(kh, 'h', 2200, k1).status, 'known');
  t.is(checkHostKey(kh, 'h', 22, k1).status, 'unknown');
});

test('check: known, mismatch (same type), other types, unknown', (t) => {
  const kh = parseKnownHosts(`h1 ssh-ed25519 ${K1}\nh2 ecdsa-sha2-nistp256 ${K3}\n[h1]:2200 ssh-ed25519 ${K2}\n`, '/kh');
  t.is(checkHostKey(kh, 'h1', 22, k1).status, 'known');
  const mm = checkHostKey(kh, 'h1', 22, k2);
  t.is(mm.status, 'mismatch');
  if (mm.status === 'mismatch') t.is(mm.entries[0]!.line, 1);
  t.is(checkHostKey(kh, 'h1', 2200, k2).status, 'known');
  t.is(checkHostKey(kh, 'h2', 22, k1).status, 'other-types');
  t.is(checkHostKey(kh, 'h3', 22, k1).status, 'unknown');
  t.deepEqual(knownKeyTypes(kh, 'h2', 22), ['ecdsa-sha2-nistp256']);
});

test('negated patterns exclude a host', (t) => {
  const kh = parseKnownHosts(`*.example,!evil.example ssh-ed25519 ${K1}\n`);
  t.is(checkHostKey(kh, 'good.example', 22, k1).status, 'known');
  t.is(checkHostKey(kh, 'evil.example', 22, k1).status, 'unknown');
});

test('revoked keys are refused even if also listed as good', (t) => {
  const kh = parseKnownHosts(`h1 ssh-ed25519 ${K1}\n@revoked h1,h2 ssh-ed25519 ${K1}\n`);
  const r = checkHostKey(kh, 'h1', 22, k1);
  t.is(r.status, 'revoked');
  if (r.status === 'revoked') t.is(r.entry.line, 2);
  t.is(checkHostKey(kh, 'h3', 22, k1).status, 'unknown', 'the @revoked line names hosts like any other');
});

test('@cert-authority lines are ignored for key checks', (t) => {
  const kh = parseKnownHosts(`@cert-authority * ssh-ed25519 ${K1}\n`);
  t.is(checkHostKey(kh, 'h1', 22, k1).status, 'unknown');
});

test('the host key algorithm order prefers recorded key types', (t) => {
  t.deepEqual(preferredHostKeyAlgorithms(['ssh-rsa']).slice(0, 3), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
  t.is(preferredHostKeyAlgorithms(['ecdsa-sha2-nistp256'])[0], 'ecdsa-sha2-nistp256');
  t.is(preferredHostKeyAlgorithms([])[0], 'ssh-ed25519');
  t.is(new Set(preferredHostKeyAlgorithms(['ssh-ed25519'])).size, preferredHostKeyAlgorithms(['ssh-ed25519']).length);
});

test('format a line in OpenSSH format', (t) => {
  t.is(formatKnownHostsLine('10.0.0.5', 2222, k1), `[10.0.0.5]:2222 ssh-ed25519 ${K1}`);
  t.is(formatKnownHostsLine('Host.Example', 22, k3), `host.example ecdsa-sha2-nistp256 ${K3}`);
});

test('append keeps old content, mode, adds a newline if missing, and is idempotent', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-kh-'));
  const file = join(dir, 'known_hosts');
  writeFileSync(file, `old.example ssh-ed25519 ${K2}`); // no trailing newline
  chmodSync(file, 0o640);
  const { line, hashed } = await appendKnownHost(file, '10.0.0.5', 2222, k1);
  t.is(line, 2);
  t.false(hashed);
  t.is(readFileSync(file, 'utf8'), `old.example ssh-ed25519 ${K2}\n[10.0.0.5]:2222 ssh-ed25519 ${K1}\n`);
  t.is(statSync(file).mode & 0o777, 0o640);
  t.is((await appendKnownHost(file, '10.0.0.5', 2222, k1)).line, 2, 'already there: nothing written');
  t.is(readFileSync(file, 'utf8').split('\n').length, 3);
  t.deepEqual(readdirSync(dir), ['known_hosts'], 'no temp files left');
});

test('append creates a missing file (and directory) with mode 600', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-kh-'));
  const file = join(dir, 'sub', 'known_hosts');
  await appendKnownHost(file, 'h', 22, k1);
  t.is(readFileSync(file, 'utf8'), `h ssh-ed25519 ${K1}\n`);
  t.is(statSync(file).mode & 0o777, 0o600);
});

test('concurrent appends to one file keep every line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-kh-'));
  const file = join(dir, 'known_hosts');
  await Promise.all(Array.from({ length: 20 }, (_, i) => appendKnownHost(file, `h${i}`, 22, i % 2 ? k1 : k3)));
  const kh = await loadKnownHosts([file]);
  t.is(kh.entries.length, 20);
});

test('loading skips missing files', async (t) => {
  const kh = await loadKnownHosts(['/nonexistent/cairn/known_hosts']);
  t.deepEqual(kh.entries, []);
});

test('append hashes the name when asked, or when the file already holds hashed names; ssh-keygen -F finds it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-kh-'));
  const asked = join(dir, 'asked');
  t.true((await appendKnownHost(asked, '10.0.0.5', 2222, k1, { hash: true })).hashed);
  const line = readFileSync(asked, 'utf8');
  t.regex(line, /^\|1\|[^| ]+\|[^| ]+ ssh-ed25519 /);
  t.false(line.includes('10.0.0.5'));
  const file = join(dir, 'known_hosts');
  writeFileSync(file, `${hashKnownHostName('old.example')} ssh-ed25519 ${K2}\n`);
  const r = await appendKnownHost(file, 'new.example', 22, k1);
  t.deepEqual(r, { line: 2, hashed: true });
  t.is((await appendKnownHost(file, 'new.example', 22, k1)).line, 2, 'a hashed entry is found again: nothing written');
  const kh = await loadKnownHosts([file]);
  t.is(checkHostKey(kh, 'new.example', 22, k1).status, 'known');
  try {
    t.regex(execFileSync('ssh-keygen', ['-F', '[10.0.0.5]:2222', '-f', asked], { encoding: 'utf8' }), /found: line 1/);
    t.regex(execFileSync('ssh-keygen', ['-F', 'new.example', '-f', file], { encoding: 'utf8' }), /found: line 2/);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    t.log('ssh-keygen is not installed: not cross-checked');
  }
});

test('the hosts of a run share one parse of an unchanged known_hosts; a recorded key is read again', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-kh-'));
  const file = join(dir, 'known_hosts');
  writeFileSync(file, `h1 ssh-ed25519 ${K1}\n`);
  const [a, b] = await Promise.all([loadKnownHosts([file]), loadKnownHosts([file])]);
  t.is(a, b, 'one parse for concurrent handshakes');
  t.is(await loadKnownHosts([file]), a);
  await appendKnownHost(file, 'h2', 22, k3);
  const c = await loadKnownHosts([file]);
  t.not(c, a);
  t.deepEqual(c.entries.map((e) => e.names), [
    { kind: 'patterns', patterns: ['h1'] },
    { kind: 'patterns', patterns: ['h2'] },
  ]);
  const two = await loadKnownHosts([file, join(dir, 'missing')]);
  t.deepEqual(two.files, [file, join(dir, 'missing')]);
  t.is(two.entries[0], c.entries[0], 'merged lists share the parsed entries');
});
