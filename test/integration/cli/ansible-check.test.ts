// An Ansible INI inventory used as it is: `cairn check -i hosts.ini --roles demo` on a
// local host (ansible_connection=local). Real shell, this machine, nothing outside a temp dir.
import test from 'ava';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cairn, jsonOf } from '../../helpers/cli.ts';

const srcIndex = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));

/** A role writing one file from a var the INI sets; an INI inventory with one local host. */
function setup(ini: string): { inv: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-ansible-'));
  const out = join(dir, 'out');
  mkdirSync(out);
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  mkdirSync(join(dir, 'roles', 'demo'), { recursive: true });
  writeFileSync(
    join(dir, 'roles', 'demo', 'index.ts'),
    `import { defineRole, file } from ${JSON.stringify(srcIndex)};
export default defineRole({
  name: 'demo',
  steps: (ctx) => [file({ id: 'motd', path: ${JSON.stringify(out)} + '/motd', content: 'hello ' + String(ctx.vars.greeting) + '\\n' })],
});
`,
  );
  writeFileSync(join(dir, 'hosts.ini'), ini);
  return { inv: join(dir, 'hosts.ini'), out };
}

const INI = '[local]\nme ansible_connection=local greeting=world\n\n[local:vars]\nansible_python_interpreter=/usr/bin/python3\n';

test('check -i hosts.ini --roles demo: drift on a fresh host (exit 2), apply, then clean', async (t) => {
  const { inv, out } = setup(INI);
  const r = await cairn(['check', '-i', inv, '--roles', 'demo', '--json']);
  t.is(r.code, 2, r.stdout + r.stderr);
  t.deepEqual(
    jsonOf(r).hosts.me!.ops.map((o) => [o.role, o.id, o.status]),
    [['demo', 'motd', 'changed']],
  );
  t.false(existsSync(join(out, 'motd')), 'check changed nothing');
  t.is((await cairn(['apply', '-i', inv, '--roles', 'demo'])).code, 0);
  const clean = await cairn(['check', '-i', inv, '--roles', 'demo']);
  t.is(clean.code, 0, clean.stdout + clean.stderr);
});

test('a bad INI line stops the run before any connection (exit 65, file:line)', async (t) => {
  const { inv } = setup('[local]\nme ansible_connection=local\n\n[all:children]\nlocl\n');
  const r = await cairn(['check', '-i', inv, '--roles', 'demo']);
  t.is(r.code, 65, r.stdout + r.stderr);
  t.regex(r.stderr, /hosts\.ini:5:1: 'locl' in \[all:children\] is not a group/);
  t.regex(r.stderr, /did you mean 'local'\?/);
});

test('--roles with an unknown role is a usage error (exit 64) naming the closest one', async (t) => {
  const { inv } = setup(INI);
  const r = await cairn(['check', '-i', inv, '--roles', 'dmeo']);
  t.is(r.code, 64, r.stdout + r.stderr);
  t.regex(r.stderr, /unknown role 'dmeo' \(did you mean 'demo'\?\)/);
});

test('inventory convert writes a cairn inventory that check runs the same', async (t) => {
  const { inv } = setup(INI);
  const out = inv.replace(/hosts\.ini$/, 'inventory.yml');
  const c = await cairn(['inventory', 'convert', '-i', inv, '-o', out]);
  t.is(c.code, 0, c.stdout + c.stderr);
  const r = await cairn(['check', '-i', out, '--roles', 'demo', '--json']);
  t.is(r.code, 2, r.stdout + r.stderr);
});
