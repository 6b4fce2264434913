import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { defaultCacheDir } from '../artifacts/cache.ts';
import { fileStamp } from '../connectors/stdin.ts';

/**
 * A file on the controller that steps send to hosts (`file` / `archive` with `src`).
 * Its sha256 is what a no-op run compares with the host's, so the content itself is
 * read only when a change needs it (`content()`), once per run, and shared by every
 * host's step: a 30 MiB binary for 30 hosts is 30 MiB in memory, not 900, and none in
 * a run that changes nothing. The hash is remembered across runs (in the cache
 * directory, next to the artifact cache) for the file's device, inode, size, mtime
 * and ctime, the way rsync and make trust a file unchanged: a no-op run does not
 * read or hash a big file again. The Buffer is shared: never mutate it.
 */
export interface LocalFile {
  readonly path: string;
  readonly size: number;
  /** Its identity now (see fileStamp): a stream of it checks the file is still this. */
  readonly stamp: string;
  readonly sha256: string;
  content(): Buffer;
}

const files = new Map<string, { key: string; file: LocalFile }>();
/** Hashes of Buffers (computed once each, or remembered for a local file's content). */
const hashes = new WeakMap<Buffer, string>();

/** Where remembered hashes live: `<cache>/local-sha256/` (CAIRN_CACHE_DIR etc., see artifacts/cache.ts). */
export function hashCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(defaultCacheDir(env), 'local-sha256');
}

function remembered(entry: string, path: string, key: string): string | undefined {
  try {
    const j = JSON.parse(readFileSync(entry, 'utf8')) as { path?: unknown; key?: unknown; sha256?: unknown };
    return j.path === path && j.key === key && typeof j.sha256 === 'string' && /^[0-9a-f]{64}$/.test(j.sha256) ? j.sha256 : undefined;
  } catch {
    return undefined;
  }
}

function remember(entry: string, path: string, key: string, sha256: string): void {
  try {
    mkdirSync(join(entry, '..'), { recursive: true });
    const tmp = `${entry}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(tmp, JSON.stringify({ path, key, sha256 }));
    renameSync(tmp, entry);
  } catch {
    // a cache that cannot be written (read-only home): the file is hashed again next run
  }
}

export function readLocalFile(path: string, env: NodeJS.ProcessEnv = process.env): LocalFile {
  const abs = resolve(path);
  const st = statSync(abs);
  if (!st.isFile()) throw new Error(`${path} is not a regular file`);
  const key = fileStamp(st);
  const hit = files.get(abs);
  if (hit && hit.key === key) return hit.file;
  const entry = join(hashCacheDir(env), createHash('sha256').update(abs).digest('hex').slice(0, 32));
  let content: Buffer | undefined;
  let sha = remembered(entry, abs, key);
  const read = (): Buffer => {
    if (content) return content;
    const c = readFileSync(abs);
    if (c.length !== st.size) throw new Error(`${path} changed while cairn read it (${st.size} bytes, then ${c.length}): run again`);
    // read after a remembered hash: that hash is its hash (same inode, size, mtime, ctime)
    if (sha) hashes.set(c, sha);
    content = c;
    return c;
  };
  if (!sha) {
    sha = hashFile(abs, st.size);
    remember(entry, abs, key, sha);
  }
  const file: LocalFile = { path: abs, size: st.size, stamp: key, sha256: sha, content: read };
  files.set(abs, { key, file });
  return file;
}

/** sha256 (hex) of a Buffer, computed once per Buffer (shared local files, rendered content). */
export function sha256Once(b: Buffer): string {
  let h = hashes.get(b);
  if (h === undefined) {
    h = createHash('sha256').update(b).digest('hex');
    hashes.set(b, h);
  }
  return h;
}

/** sha256 of a file read 1 MiB at a time (a big src is hashed without being held). */
function hashFile(path: string, size: number): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(Math.min(size, 1024 * 1024) || 1);
  const fd = openSync(path, 'r');
  try {
    let at = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, at);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      at += n;
    }
    if (at !== size) throw new Error(`${path} changed while cairn read it (${size} bytes, then ${at}): run again`);
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** Forget what this process read (tests: the next read goes to the remembered hashes). */
export function forgetLocalFiles(): void {
  files.clear();
}
