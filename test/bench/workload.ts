// The benchmark's workloads: the board-bootstrap role (test/bench/roles/bootstrap) with
// its payload made here, and the demo roles; an inventory for any subset of the fleet.
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import type { Fleet } from '../bed/fleet.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** A 30 MiB binary (or `binaryBytes`) and a small tarball, in a temp dir outside the repository. */
export function makePayload(binaryBytes = 30 * 1024 * 1024): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-payload-'));
  writeFileSync(join(dir, 'agent'), randomBytes(binaryBytes), { mode: 0o755 });
  const src = join(dir, 'src', 'bundle');
  mkdirSync(src, { recursive: true });
  writeFileSync(join(src, 'README'), 'bench bundle\n');
  for (let i = 0; i < 50; i++) writeFileSync(join(src, `data-${i}.txt`), `${'line of bundled data\n'.repeat(2000)}${i}\n`);
  const r = spawnSync('tar', ['-czf', join(dir, 'bundle.tar.gz'), '-C', join(dir, 'src'), 'bundle']);
  if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
  spawnSync('rm', ['-rf', join(dir, 'src')]);
  return dir;
}

export type Workload = 'bootstrap' | 'demo' | 'upload';

/** A file of `bytes` random bytes for the upload workload, in a temp dir; its path. */
export function makeBlob(bytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-blob-'));
  const f = join(dir, 'blob');
  writeFileSync(f, randomBytes(bytes));
  return f;
}

/** An inventory file for these hosts of the fleet running the workload. */
export function inventoryFor(fleet: Fleet, names: readonly string[], workload: Workload, payload: string): string {
  // payload: the payload dir (bootstrap) or the blob (upload)
  const bed = parse(readFileSync(fleet.inventory, 'utf8')) as { connection: unknown; hosts: Record<string, unknown> };
  const dir = mkdtempSync(join(tmpdir(), `cairn-bench-${workload}-`));
  symlinkSync(join(repo, workload === 'demo' ? 'inventory/roles' : 'test/bench/roles'), join(dir, 'roles'));
  const hosts = Object.fromEntries(names.map((n) => [n, bed.hosts[n]]));
  const roles = workload === 'demo' ? ['motd', 'toolbox', 'tuning', 'hello'] : [workload];
  const vars = workload === 'bootstrap' ? { bench_payload: payload } : workload === 'upload' ? { bench_blob: payload } : { site_name: 'bench' };
  const file = join(dir, 'inventory.yml');
  writeFileSync(file, stringify({ connection: bed.connection, vars, hosts, groups: { nodes: { hosts: names, roles } } }));
  return file;
}

/** Shell run on each host (not timed) so the next cold run starts without the workload. */
export const RESET_SCRIPT = `rm -rf /opt/bench /etc/bench /var/lib/bench /home/benchops
for u in benchops benchagent; do deluser "$u" 2>/dev/null || userdel "$u" 2>/dev/null; delgroup "$u" 2>/dev/null || groupdel "$u" 2>/dev/null; done; exit 0`;
