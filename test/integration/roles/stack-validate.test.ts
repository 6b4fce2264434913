// CLI-level checks of the nomad/consul roles that need no host: a bad cluster
// shape is refused before any connection (exit 65), every problem at once,
// with file:line and the fix, and the gossip key is never printed.
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cairn } from '../../helpers/cli.ts';

const KEY = Buffer.alloc(32, 9).toString('base64');

function inv(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-stack-validate-'));
  const file = join(dir, 'inventory.yml');
  writeFileSync(file, text);
  return file;
}

// 127.0.0.1 port 1: nothing listens there, so a connection attempt would fail loudly
const TWO_SERVERS = `vars:
  consul_encrypt: !secret "${KEY}"
  consul_artifacts: { static_amd64: { url: https://example.invalid/consul.zip, sha256: '${'0'.repeat(64)}' } }
  nomad_artifacts: { musl_amd64: { url: https://example.invalid/nomad.zip, sha256: '${'1'.repeat(64)}' } }
hosts:
  s1: { address: 127.0.0.1, port: 1 }
  s2: { address: 127.0.0.1, port: 1 }
groups:
  servers:
    hosts: [s1, s2]
    roles: [artifacts, supervision, consul, nomad]
`;

for (const cmd of ['apply', 'check']) {
  test(`${cmd}: two servers (bootstrap_expect 2) -> exit 65 before connecting, at the group's line, for consul and nomad`, async (t) => {
    const file = inv(TWO_SERVERS);
    const r = await cairn([cmd, '-i', file]);
    t.is(r.code, 65, r.stdout + r.stderr);
    const out = r.stdout + r.stderr;
    t.regex(out, new RegExp(`${file.replace(/[.]/g, '\\.')}:9:\\d+: consul datacenter 'dc1' would have bootstrap_expect = 2`));
    t.regex(out, /nomad region 'global' would have bootstrap_expect = 2 \(servers: s1, s2\)/);
    t.regex(out, /fix: use 1 or 3 servers/);
    t.notRegex(out, /ECONNREFUSED|unreachable|connect/i);
    t.false(out.includes(KEY), 'the gossip key is never printed');
  });
}

test('allow_even_servers: true lets it through validation (then the unreachable hosts fail), key still never printed', async (t) => {
  const file = inv(TWO_SERVERS.replace('vars:\n', 'vars:\n  allow_even_servers: true\n'));
  const r = await cairn(['apply', '-i', file, '--json']);
  t.not(r.code, 65, r.stdout + r.stderr);
  t.false((r.stdout + r.stderr).includes(KEY));
});

test('a plain-text gossip key is refused without being echoed back in full context', async (t) => {
  const file = inv(TWO_SERVERS.replace(`!secret "${KEY}"`, 'not-a-secret-key').replace('hosts: [s1, s2]', 'hosts: [s1]'));
  const r = await cairn(['check', '-i', file]);
  t.is(r.code, 65);
  t.regex(r.stdout + r.stderr, /:2:\d+: consul_encrypt is a gossip encryption key written as plain text/);
});
