// Batched probes and changes stay under the kernel's 128 KiB limit for one argument
// (`sh -c <command>`, twice over with become): a role writing several large files
// converges on real hosts, as root over ssh and as a user through sudo/doas.
import test from 'ava';
import { createHash } from 'node:crypto';
import { writeFileSync, mkdtempSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory } from '../../helpers/inventory.ts';
import { cairn, jsonOf } from '../../helpers/cli.ts';
import { sshRun } from '../../bed/fleet.ts';

const srcIndex = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));
const FILES = 5;
const SIZE = 60_000; // each just under the inline cap: 80 KB of base64 in its command
const DIR = '/root/cairn-big';

/** The same text every run (a hash chain), so the second apply has nothing to do; the role below computes it the same way. */
function content(i: number): string {
  let out = '';
  let h = `cairn-big-${i}`;
  while (out.length < SIZE) {
    h = createHash('sha256').update(h).digest('hex');
    out += `${h}\n`;
  }
  return out.slice(0, SIZE);
}

function rolesDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-roles-'));
  mkdirSync(join(dir, 'bigfiles'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(
    join(dir, 'bigfiles', 'index.ts'),
    `import { defineRole, directory, file } from ${JSON.stringify(srcIndex)};
import { createHash } from 'node:crypto';
function content(i) {
  let out = '';
  let h = 'cairn-big-' + i;
  while (out.length < ${SIZE}) {
    h = createHash('sha256').update(h).digest('hex');
    out += h + '\\n';
  }
  return out.slice(0, ${SIZE});
}
export default defineRole({ name: 'bigfiles', steps: () => [
  directory({ id: 'dir', path: ${JSON.stringify(DIR)}, mode: '0700' }),
  ...Array.from({ length: ${FILES} }, (_, i) => file({ id: 'f' + i, path: ${JSON.stringify(DIR)} + '/f' + i, content: content(i) })),
] });
`,
  );
  return dir;
}

let claim: Claim;
test.before(async () => {
  claim = await claimHosts({ alpine: 1, debian: 1 });
});
test.after.always(async () => {
  if (claim) await Promise.all(claim.hosts.map((h) => sshRun(h, `rm -rf ${DIR}`)));
  claim?.release();
});

test.serial(`${FILES} files of ${SIZE / 1000} KB in one role: converge, then changed=0 (root, and become)`, async (t) => {
  t.timeout(5 * 60_000);
  const names = claim.hosts.map((h) => h.name);
  const want = Array.from({ length: FILES }, (_, i) => createHash('sha256').update(content(i)).digest('hex'));
  for (const become of [false, true]) {
    await Promise.all(claim.hosts.map((h) => sshRun(h, `rm -rf ${DIR}`)));
    const inv = fleetInventory({ hosts: names, groups: { g: { hosts: names, roles: ['bigfiles'] } }, rolesDir: rolesDir(), asTester: become });
    const first = await cairn(['apply', '-i', inv.file, '--json']);
    t.is(first.code, 0, first.stdout.slice(0, 4000) + first.stderr);
    for (const h of claim.hosts) {
      const s = jsonOf(first).hosts[h.name]!;
      t.is(s.changed, FILES + 1, `${h.name}${become ? ' (become)' : ''}: ${JSON.stringify(s.ops.filter((o) => o.status !== 'changed').map((o) => o.error ?? o.reason))}`);
      const sums = await sshRun(h, `cd ${DIR} && for i in $(seq 0 ${FILES - 1}); do sha256sum f$i | cut -d' ' -f1; done`);
      t.deepEqual(sums.stdout.trim().split('\n'), want, `${h.name}: the bytes arrived`);
    }
    const again = await cairn(['apply', '-i', inv.file, '--json']);
    t.is(again.code, 0, again.stderr);
    for (const h of claim.hosts) t.is(jsonOf(again).hosts[h.name]?.changed, 0, `${h.name}${become ? ' (become)' : ''}: second apply`);
  }
});
