// `cairn facts` reads the inventory only: a role that cannot load (a typo in its code)
// blocks apply and check, with the file named, but not a look at the hosts.
import test from 'ava';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cairn } from '../../helpers/cli.ts';

function setup(): { dir: string; inv: string; roleFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-facts-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  mkdirSync(join(dir, 'roles', 'broken'), { recursive: true });
  const roleFile = join(dir, 'roles', 'broken', 'index.ts');
  writeFileSync(roleFile, 'export default defineRole({ name: "broken", steps: () => [ });\n');
  writeFileSync(join(dir, 'inventory.yml'), 'hosts:\n  me: { connection: local }\n  other: { connection: local }\ngroups:\n  g: { hosts: [me, other], roles: [broken] }\n');
  return { dir, inv: join(dir, 'inventory.yml'), roleFile };
}

test('a broken role stops apply (exit 65, file named) but not facts', async (t) => {
  const { inv, roleFile } = setup();
  const apply = await cairn(['apply', '-i', inv]);
  t.is(apply.code, 65, apply.stdout + apply.stderr);
  t.true(apply.stderr.includes(roleFile), apply.stderr);

  const facts = await cairn(['facts', '-i', inv, '--limit', 'me']);
  t.is(facts.code, 0, facts.stdout + facts.stderr);
  const doc = JSON.parse(facts.stdout) as Record<string, { facts?: { hostname: string; os: { id: string }; machine: string } }>;
  t.deepEqual(Object.keys(doc), ['me'], '--limit still applies');
  const os = readFileSync('/etc/os-release', 'utf8').match(/^ID=(.*)$/m)?.[1]?.replace(/"/g, '');
  t.like(doc.me?.facts, { hostname: hostname(), os: { id: os! } });
});

test('facts still refuses a bad inventory before touching a host', async (t) => {
  const { inv } = setup();
  writeFileSync(inv, readFileSync(inv, 'utf8').replace('connection: local', 'connection: telnet'));
  const facts = await cairn(['facts', '-i', inv]);
  t.is(facts.code, 65, facts.stdout + facts.stderr);
  t.regex(facts.stderr, /inventory\.yml:2/);
  t.is(facts.stdout, '', 'no facts printed');
});
