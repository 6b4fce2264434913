import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/**
 * A file on the controller that steps send to hosts (`file` / `archive` with `src`),
 * read once per run and shared: every host's step builds from the same Buffer, so a
 * 30 MiB binary for 30 hosts is 30 MiB in memory, not 900 (and hashed once). Read
 * again when its size, mtime or inode changed. The Buffer is shared: never mutate it.
 */
const files = new Map<string, { key: string; content: Buffer; sha256: string }>();

export function readLocalFile(path: string): { content: Buffer; sha256: string } {
  const st = statSync(path);
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
  const hit = files.get(path);
  if (hit && hit.key === key) return hit;
  const content = readFileSync(path);
  const entry = { key, content, sha256: createHash('sha256').update(content).digest('hex') };
  files.set(path, entry);
  return entry;
}

/** sha256 (hex) of a Buffer, computed once per Buffer (shared local files, rendered content). */
const hashes = new WeakMap<Buffer, string>();
export function sha256Once(b: Buffer): string {
  let h = hashes.get(b);
  if (h === undefined) {
    h = createHash('sha256').update(b).digest('hex');
    hashes.set(b, h);
  }
  return h;
}
