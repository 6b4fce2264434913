import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadFleet, type BedHost, type Kind } from '../bed/fleet.ts';

/**
 * Test files run in parallel processes; each claims the bed hosts it changes so no
 * two files work on one host at once. A claim is a directory made atomically in
 * the fleet's state dir; the bed starts every fleet with none.
 */
export interface Claim {
  hosts: BedHost[];
  release(): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function claimHosts(want: Partial<Record<Kind, number>>, opts: { waitMs?: number; owner?: string } = {}): Promise<Claim> {
  const fleet = loadFleet();
  const dir = join(fleet.dir, 'claims');
  mkdirSync(dir, { recursive: true });
  const deadline = Date.now() + (opts.waitMs ?? 15 * 60_000);
  const have: BedHost[] = [];
  const release = () => {
    for (const h of have) rmSync(join(dir, h.name), { recursive: true, force: true });
    have.length = 0;
  };
  for (;;) {
    for (const [kind, n] of Object.entries(want) as [Kind, number][]) {
      for (const h of fleet.hosts.filter((x) => x.kind === kind)) {
        if (have.filter((x) => x.kind === kind).length >= n) break;
        if (have.includes(h)) continue;
        try {
          mkdirSync(join(dir, h.name));
          have.push(h);
        } catch {
          /* claimed by another test file */
        }
      }
    }
    const missing = (Object.entries(want) as [Kind, number][]).filter(([k, n]) => have.filter((x) => x.kind === k).length < n);
    if (missing.length === 0) return { hosts: [...have], release };
    release(); // all or nothing: holding a part while waiting could deadlock two files
    const total = (Object.entries(want) as [Kind, number][]).filter(([k, n]) => fleet.hosts.filter((x) => x.kind === k).length < n);
    if (total.length > 0) {
      release();
      throw new Error(`the fleet has too few hosts: want ${JSON.stringify(want)}, has ${fleet.hosts.map((h) => `${h.name}(${h.kind})`).join(', ')}`);
    }
    if (Date.now() > deadline) {
      release();
      throw new Error(`could not claim ${JSON.stringify(want)} within the wait: other test files hold them`);
    }
    await sleep(300 + Math.random() * 700);
  }
}
