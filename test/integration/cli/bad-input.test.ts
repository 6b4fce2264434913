// Bad input through the real `cairn` command: exit 65, every problem with file:line,
// and not one connection attempt (a TCP listener stands where the hosts point).
import test from 'ava';
import { createServer, type Server } from 'node:net';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cairn } from '../../helpers/cli.ts';

const corpus = fileURLToPath(new URL('../../fixtures/bad/', import.meta.url));
const srcIndex = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));

let server: Server;
let port = 0;
let connections = 0;
test.before(async () => {
  server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as { port: number }).port;
});
test.after.always(() => server.close());

/** An inventory dir whose one host points at the listener, with a role rendering `template`. */
function templateCase(template: string, context: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bad-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  mkdirSync(join(dir, 'roles', 't', 'templates'), { recursive: true });
  copyFileSync(template, join(dir, 'roles', 't', 'templates', basename(template)));
  writeFileSync(
    join(dir, 'roles', 't', 'index.ts'),
    `import { defineRole, file } from ${JSON.stringify(srcIndex)};
export default defineRole({ name: 't', steps: (ctx) => [file({ id: 'f', path: '/tmp/x', content: ctx.template(${JSON.stringify(basename(template))}) })] });
`,
  );
  writeFileSync(
    join(dir, 'inventory.yml'),
    `vars: ${JSON.stringify(context)}\nhosts:\n  h1: { address: 127.0.0.1, port: ${port}, user: root }\ngroups:\n  g: { hosts: [h1], roles: [t] }\n`,
  );
  return join(dir, 'inventory.yml');
}

const fixtures = readdirSync(corpus).filter((f) => f.endsWith('.yml') || f.endsWith('.hbs'));

test('the corpus has at least 10 bad inventories and templates', (t) => {
  t.true(fixtures.length >= 10, `only ${fixtures.length} fixtures`);
});

for (const f of fixtures) {
  test.serial(`${f}: exit 65, file:line in the message, no connection`, async (t) => {
    const expect = JSON.parse(readFileSync(join(corpus, f.replace(/\.(yml|hbs)$/, '.expect.json')), 'utf8')) as { line?: number; message: string; context?: Record<string, unknown> };
    const before = connections;
    const inv = f.endsWith('.hbs') ? templateCase(join(corpus, f), expect.context) : join(corpus, f);
    const r = await cairn(['check', '-i', inv], { MISSING_SECRET_FOR_TEST: '' });
    t.is(r.code, 65, r.stderr + r.stdout);
    t.true(r.stderr.includes(basename(f) + (expect.line ? `:${expect.line}` : '')), r.stderr);
    t.true(r.stderr.includes(expect.message), r.stderr);
    t.is(connections, before, 'cairn connected to a host despite bad input');
  });
}

test.serial('a good inventory does connect (the listener would see it): the no-connection checks can fail', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-good-'));
  const inv = join(dir, 'inventory.yml');
  writeFileSync(inv, `connection: { connect_timeout: 2s }\nhosts:\n  h1: { address: 127.0.0.1, port: ${port}, user: root }\n`);
  const before = connections;
  const r = await cairn(['check', '-i', inv]);
  t.is(r.code, 1);
  t.true(connections > before);
});

test('bad flags are usage errors (64) before anything else', async (t) => {
  for (const args of [['apply'], ['apply', '-i', 'x.yml', '--forks', '0'], ['apply', '-i', 'x.yml', '--bogus'], ['frobnicate'], ['apply', '-i', 'x.yml', '-e', 'novalue'], ['apply', '-i', 'x.yml', '--connection', 'chroot']]) {
    const r = await cairn(args);
    t.is(r.code, 64, `${args.join(' ')}: ${r.stderr}`);
    t.true(r.stderr.length > 0);
  }
});

test('a missing inventory file is exit 65 naming the file', async (t) => {
  const r = await cairn(['check', '-i', '/nonexistent/inventory.yml']);
  t.is(r.code, 65);
  t.regex(r.stderr, /\/nonexistent\/inventory\.yml/);
});
