import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, renameSync, rmSync, writeFileSync, chmodSync, chownSync } from 'node:fs';
import { dirname } from 'node:path';

export async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Stable hash of a recipe object (keys sorted). */
export function recipeHash(recipe: unknown): string {
  const stable = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(stable)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, stable((v as Record<string, unknown>)[k])]))
        : v;
  return sha256(JSON.stringify(stable(recipe))).slice(0, 16);
}

export function writeFileMode(file: string, data: string | Buffer, mode: number, owner?: { uid: number; gid: number }): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, data);
  chmodSync(file, mode);
  if (owner) chownSync(file, owner.uid, owner.gid);
}

/**
 * Build a cache entry at `final` once: `build(tmp)` fills a temp dir next to it,
 * which is then renamed into place (atomic; a crashed build leaves only a temp dir,
 * removed on the next try).
 */
export async function buildOnce(final: string, label: string, build: (tmp: string) => Promise<void>): Promise<{ built: boolean; ms: number }> {
  if (existsSync(final)) return { built: false, ms: 0 };
  const t0 = Date.now();
  const tmp = `${final}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  process.stderr.write(`bed: building ${label} -> ${final}\n`);
  try {
    await build(tmp);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  if (existsSync(final)) {
    // someone else (another fleet's `up`) finished first: keep theirs
    rmSync(tmp, { recursive: true, force: true });
  } else {
    renameSync(tmp, final);
  }
  const ms = Date.now() - t0;
  process.stderr.write(`bed: built ${label} in ${(ms / 1000).toFixed(1)} s\n`);
  return { built: true, ms };
}

/** Remove stale `*.tmp-<pid>` build dirs whose pid is gone. */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
