// `check` on a host where an earlier step would change something: a later step that
// cannot be judged yet is skipped with its reason and the run goes on (exit 2, drift);
// without earlier drift the same failing step fails check (exit 1). Real shell, local host.
import test from 'ava';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cairn, jsonOf } from '../../helpers/cli.ts';

const srcIndex = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));

/** A role: write a tool, ask the tool its version (fails without it), write a config. */
function setup(): { inv: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-check-'));
  const out = join(dir, 'out');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  mkdirSync(join(dir, 'roles', 'tool'), { recursive: true });
  writeFileSync(
    join(dir, 'roles', 'tool', 'index.ts'),
    `import { defineRole, file, sh, noop, fail } from ${JSON.stringify(srcIndex)};
const out = ${JSON.stringify(out)};
export default defineRole({
  name: 'tool',
  steps: () => [
    // the tool breaks when a file 'broken' lies next to it (a failure with no drift before it)
    file({ id: 'tool', path: out + '/tool', content: '#!/bin/sh\\n[ -e "\${0%/*}/broken" ] && exit 3\\necho 1.2.3\\n', mode: '0755' }),
    { kind: 'check', id: 'tool-version', barrier: true,
      probe: () => sh\`\${out + '/tool'} 2>&1\`,
      plan: (p) => (p.exitCode === 0 && p.stdout.trim() === '1.2.3' ? noop('tool 1.2.3') : fail(out + '/tool is not installed')) },
    file({ id: 'config', path: out + '/tool.conf', content: 'x = 1\\n' }),
  ],
});
`,
  );
  mkdirSync(out);
  writeFileSync(join(dir, 'inventory.yml'), 'hosts:\n  me: { connection: local }\ngroups:\n  g: { hosts: [me], roles: [tool] }\n');
  return { inv: join(dir, 'inventory.yml'), out };
}

test('fresh host: the version step is skipped with its reason, the config is still checked, exit 2', async (t) => {
  const { inv, out } = setup();
  const r = await cairn(['check', '-i', inv, '--json']);
  t.is(r.code, 2, r.stdout + r.stderr);
  const ops = jsonOf(r).hosts.me!.ops;
  t.deepEqual(
    ops.map((o) => [o.id, o.status]),
    [
      ['tool', 'changed'],
      ['tool-version', 'skipped'],
      ['config', 'changed'],
    ],
  );
  t.is(ops[1]!.reason, `not checkable before the changes above are applied: ${out}/tool is not installed`);
  t.false(existsSync(join(out, 'tool')), 'check changed nothing');

  const applied = await cairn(['apply', '-i', inv]);
  t.is(applied.code, 0, applied.stdout + applied.stderr);
  const clean = await cairn(['check', '-i', inv]);
  t.is(clean.code, 0, clean.stdout + clean.stderr);
});

test('no earlier drift: the failing step fails check (exit 1) and stops the host', async (t) => {
  const { inv, out } = setup();
  t.is((await cairn(['apply', '-i', inv])).code, 0);
  writeFileSync(join(out, 'broken'), '');
  const r = await cairn(['check', '-i', inv, '--json']);
  t.is(r.code, 1, r.stdout + r.stderr);
  const ops = jsonOf(r).hosts.me!.ops;
  t.deepEqual(
    ops.map((o) => [o.id, o.status]),
    [
      ['tool', 'ok'],
      ['tool-version', 'failed'],
    ],
  );
  t.is(ops[1]!.error, `${out}/tool is not installed`);
});
