// A cut connection is always reported: applies with SFTP uploads go through a proxy of
// our own that cuts the connection (FIN or RST) at a random byte, then refuses new
// ones. On Alpine (busybox, doas) and Debian (dash, sudo), as root and through become:
// the run ends with exit 1, the host unreachable and named with the step it was on,
// the --json document printed; no managed file is ever half-written; a rerun without
// the proxy converges and the next one changes nothing, leaving no temp file.
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory } from '../../helpers/inventory.ts';
import { cairn, jsonOf } from '../../helpers/cli.ts';
import { startCutProxy } from '../../helpers/cut-proxy.ts';
import { sshRun } from '../../bed/fleet.ts';

const srcIndex = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));
const DIR = '/root/cairn-cut';
const BIG = 3;
const BIG_SIZE = 150_000; // over the inline cap: uploaded (a tar stream on the batch's stdin)
const SMALL = 3;

/** Deterministic content (a hash chain) the role computes the same way. */
function content(name: string, size: number): string {
  let out = '';
  let h = name;
  while (out.length < size) {
    h = createHash('sha256').update(h).digest('hex');
    out += `${h}\n`;
  }
  return out.slice(0, size);
}
const files = [...Array.from({ length: BIG }, (_, i) => [`big${i}`, BIG_SIZE] as const), ...Array.from({ length: SMALL }, (_, i) => [`small${i}`, 2000] as const)];
const want = new Map<string, string>(files.map(([n, size]) => [n, createHash('sha256').update(content(n, size)).digest('hex')]));

function rolesDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-cut-roles-'));
  mkdirSync(join(dir, 'cut'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(
    join(dir, 'cut', 'index.ts'),
    `import { defineRole, directory, file } from ${JSON.stringify(srcIndex)};
import { createHash } from 'node:crypto';
${content.toString()}
export default defineRole({ name: 'cut', steps: () => [
  directory({ id: 'dir', path: ${JSON.stringify(DIR)}, mode: '0755' }),
  ...${JSON.stringify(files)}.map(([n, size]) => file({ id: n, path: ${JSON.stringify(DIR)} + '/' + n, content: content(n, size) })),
] });
`,
  );
  return dir;
}

/** The same inventory with every host reached through its proxy (its own known_hosts: the proxy's address is new). */
function throughProxies(file: string, ports: Map<string, number>): string {
  const doc = parse(readFileSync(file, 'utf8')) as { connection?: Record<string, unknown>; hosts: Record<string, Record<string, unknown>> };
  const dir = mkdtempSync(join(tmpdir(), 'cairn-cut-inv-'));
  writeFileSync(join(dir, 'known_hosts'), '');
  doc.connection = { ...(doc.connection ?? {}), known_hosts: join(dir, 'known_hosts') };
  for (const [name, port] of ports) doc.hosts[name] = { ...doc.hosts[name], address: '127.0.0.1', port };
  const out = join(dirname(file), `through-proxy-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(out, stringify(doc));
  return out;
}

let claim: Claim;
test.before(async () => {
  claim = await claimHosts({ alpine: 1, debian: 1 });
});
test.after.always(async () => {
  if (claim) await Promise.all(claim.hosts.map((h) => sshRun(h, `rm -rf ${DIR}`)));
  claim?.release();
});

// a few cut points per host and way in, spread over the run (facts and probes are a few
// KB; the uploads carry most of the ~470 KB); FIN and RST alternate
const CUTS = [9_000, 60_000, 180_000, 330_000];

for (const become of [false, true]) {
  test.serial(`cuts at random points of an apply with uploads${become ? ' (become)' : ''}: unreachable, named, nothing half-written, rerun converges`, async (t) => {
    t.timeout(10 * 60_000);
    const names = claim.hosts.map((h) => h.name);
    const inv = fleetInventory({ hosts: names, groups: { g: { hosts: names, roles: ['cut'] } }, rolesDir: rolesDir(), asTester: become });
    let cut = 0;
    for (const [k, base] of CUTS.entries()) {
      const afterBytes = base + Math.floor(Math.random() * 20_000);
      const how = k % 2 === 0 ? 'rst' : 'fin';
      await Promise.all(claim.hosts.map((h) => sshRun(h, `rm -rf ${DIR}`)));
      const proxies = await Promise.all(claim.hosts.map((h) => startCutProxy({ target: { host: h.address, port: h.port }, afterBytes, how, refuseAfterCut: true })));
      const ports = new Map(claim.hosts.map((h, i) => [h.name, proxies[i]!.port]));
      const label = `cut after ${afterBytes} bytes (${how})${become ? ', become' : ''}`;
      try {
        const r = await cairn(['apply', '-i', throughProxies(inv.file, ports), '--json', '--accept-new-host-keys']);
        const doc = jsonOf(r); // always a document, even when every host was cut
        t.notRegex(r.stderr, /internal error/, `${label}: a cut is reported, not an internal error`);
        for (const [i, h] of claim.hosts.entries()) {
          const s = doc.hosts[h.name];
          if (!s) {
            t.fail(`${h.name}, ${label}: not in the --json document\n${r.stderr}`);
            continue;
          }
          if (proxies[i]!.cuts > 0) {
            cut++;
            t.log(`${h.name}, ${label}: ${s.error}`);
            t.true(s.unreachable, `${h.name}, ${label}: unreachable (${JSON.stringify({ error: s.error, failed: s.failed })})`);
            t.regex(s.error ?? '', /lost|cut|closed|reset|unreachable/i, `${h.name}, ${label}: says what happened`);
          } else t.false(s.unreachable, `${h.name}, ${label}: not cut, not unreachable`);
        }
        if (proxies.some((p) => p.cuts > 0)) t.is(r.code, 1, `${label}: exit 1\n${r.stderr}`);
        else t.is(r.code, 0, `${label}: nothing cut: exit 0\n${r.stderr}`);
      } finally {
        await Promise.all(proxies.map((p) => p.close()));
      }
      for (const h of claim.hosts) {
        // every managed file is absent or whole, never a part
        const sums = await sshRun(h, `cd ${DIR} 2>/dev/null && for f in big* small*; do [ -f "$f" ] && echo "$f $(sha256sum < "$f" | cut -d' ' -f1)"; done; true`);
        for (const line of sums.stdout.trim().split('\n').filter(Boolean)) {
          const [f, sum] = line.split(' ');
          if (f!.includes('.cairn-')) continue;
          t.is(sum, want.get(f!), `${h.name}, ${label}: ${f} is whole`);
        }
      }
      const again = await cairn(['apply', '-i', inv.file, '--json']);
      t.is(again.code, 0, `${label}: the rerun converges\n${again.stdout.slice(0, 3000)}${again.stderr}`);
      const last = await cairn(['apply', '-i', inv.file, '--json']);
      for (const h of claim.hosts) {
        t.is(jsonOf(last).hosts[h.name]!.changed, 0, `${h.name}, ${label}: changed=0 after`);
        const left = await sshRun(h, `ls -a ${DIR}`);
        t.false(/\.cairn-tmp/.test(left.stdout), `${h.name}, ${label}: no temp file left: ${left.stdout}`);
        // the uploads' stage (made in the nearest existing ancestor: /root or DIR) is removed by the batch's shell when it is cut off too
        const stages = await sshRun(h, `ls -a /root ${DIR}`);
        t.false(/\.cairn-stage/.test(stages.stdout), `${h.name}, ${label}: no stage left: ${stages.stdout}`);
      }
    }
    t.true(cut >= CUTS.length, `most cut points fall inside the run (${cut} cuts of ${CUTS.length * claim.hosts.length} tries)`);
  });
}
