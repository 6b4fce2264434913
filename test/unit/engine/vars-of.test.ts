import test from 'ava';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareRun } from '../../../src/engine/prepare.ts';
import { makeRoleContext } from '../../../src/roles/context.ts';
import { stubFacts } from '../../../src/facts/stub.ts';

const srcIndex = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));

test("a role sees other hosts' merged vars, -e included", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-varsof-'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  mkdirSync(join(dir, 'roles', 'r'), { recursive: true });
  writeFileSync(join(dir, 'roles', 'r', 'index.ts'), `import { defineRole } from ${JSON.stringify(srcIndex)};\nexport default defineRole({ name: 'r', defaults: { size: 'small', tier: 'd' }, steps: () => [] });\n`);
  writeFileSync(join(dir, 'inv.yml'), 'vars: { tier: global }\nhosts:\n  a: { vars: { size: big } }\n  b: {}\ngroups:\n  g: { hosts: [a, b], roles: [r] }\n');
  const prepared = await prepareRun({ inventory: join(dir, 'inv.yml'), extraVars: { tier: 'from-e' } });
  const job = prepared.jobs.find((j) => j.host.name === 'b')!;
  const role = job.roles[0]!;
  const ctx = makeRoleContext({
    role,
    host: job.host,
    vars: job.varsFor(role),
    facts: stubFacts[0]!,
    inventory: prepared.inventory,
    hostsWithRole: job.hostsWithRole('r'),
    varsOf: (h) => job.varsFor(role, h),
    bake: false,
    render: prepared.render,
  });
  const a = prepared.inventory.hosts.get('a')!;
  t.like(ctx.varsOf(a), { size: 'big', tier: 'from-e' });
  t.like(ctx.vars, { size: 'small', tier: 'from-e' });
});
