// A step with flushHandlers sees the effect of the handlers notified before it
// (Ansible's flush_handlers); handlers then do not run a second time at the role's end.
import test from 'ava';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cairn, jsonOf } from '../../helpers/cli.ts';

const srcIndex = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));

function setup(flush: boolean): { inv: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-flush-'));
  const out = join(dir, 'out');
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  mkdirSync(join(dir, 'roles', 'r'), { recursive: true });
  writeFileSync(
    join(dir, 'roles', 'r', 'index.ts'),
    `import { defineRole, file, command, sh, noop, fail } from ${JSON.stringify(srcIndex)};
const out = ${JSON.stringify(out)};
export default defineRole({
  name: 'r',
  steps: () => [
    file({ id: 'config', path: out + '/config', content: 'v1\\n', notify: ['restart'] }),
    { kind: 'check', id: 'restarted', ${flush ? 'flushHandlers: true, ' : ''}
      probe: () => sh\`cat \${out}/restarts 2>/dev/null || echo 0\`,
      plan: (p) => (Number(p.stdout.trim()) >= 1 ? noop('restarted before this step') : fail('the handler has not run yet')) },
  ],
  handlers: () => ({ restart: [command({ id: 'restart', run: sh\`echo 1 >> \${out}/restarts\`, notIdempotent: true })] }),
});
`,
  );
  mkdirSync(out);
  writeFileSync(join(dir, 'inventory.yml'), 'hosts:\n  me: { connection: local }\ngroups:\n  g: { hosts: [me], roles: [r] }\n');
  return { inv: join(dir, 'inventory.yml'), out };
}

test('with flushHandlers the handler runs before the step, once', async (t) => {
  const { inv, out } = setup(true);
  const r = await cairn(['apply', '-i', inv, '--json']);
  t.is(r.code, 0, r.stdout + r.stderr);
  const ops = jsonOf(r).hosts.me!.ops.map((o) => `${o.id}:${o.status}`);
  t.deepEqual(ops, ['config:changed', 'restart:changed', 'restarted:ok']);
  t.is(readFileSync(join(out, 'restarts'), 'utf8'), '1\n');
});

test('without it the same step fails: the handler only runs at the end of the role', async (t) => {
  const { inv } = setup(false);
  const r = await cairn(['apply', '-i', inv, '--json']);
  t.is(r.code, 1);
  t.deepEqual(
    jsonOf(r).hosts.me!.ops.map((o) => `${o.id}:${o.status}`),
    // the failed plan stops the host before the queued config change is applied
    ['restarted:failed', 'config:skipped'],
  );
});
