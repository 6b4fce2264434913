import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/**
 * Controller-side artifact cache: every fetched file is stored once, by its
 * sha256, at `<cache>/sha256/<hex>`, and only after its hash was verified.
 * Boards often have no internet: the controller fetches, the host gets an upload.
 */

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** $CAIRN_CACHE_DIR, else $XDG_CACHE_HOME/cairn, else ~/.cache/cairn. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CAIRN_CACHE_DIR) return resolve(env.CAIRN_CACHE_DIR);
  const base = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'cairn');
}

/** A URL (http/https) or a controller-side path. */
export const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

export interface FetchOptions {
  /** Give up on a download after this long (default 10 minutes). */
  timeoutMs?: number;
}

export class ArtifactCache {
  readonly dir: string;
  constructor(dir: string = defaultCacheDir()) {
    this.dir = dir;
  }

  pathFor(hex: string): string {
    return join(this.dir, 'sha256', hex);
  }

  /** Cached bytes for a hash, re-verified (a corrupt entry is removed and reported as absent). */
  async get(hex: string): Promise<Buffer | undefined> {
    let buf: Buffer;
    try {
      buf = await readFile(this.pathFor(hex));
    } catch {
      return undefined;
    }
    if (sha256(buf) === hex) return buf;
    await rm(this.pathFor(hex), { force: true });
    return undefined;
  }

  /** Store bytes under their own hash (write + rename: a reader never sees half a file). */
  async put(content: Buffer): Promise<string> {
    const hex = sha256(content);
    await this.#write(this.pathFor(hex), content);
    return hex;
  }

  /**
   * The bytes of `source` (URL or controller path) whose sha256 must be `expected`.
   * Served from the cache when present; otherwise read/downloaded once, verified,
   * stored. A mismatch throws (expected vs got, source) and stores nothing.
   */
  async fetch(source: string, expected: string, opts: FetchOptions = {}): Promise<Buffer> {
    const want = expected.toLowerCase();
    if (!SHA256_HEX.test(want)) throw new Error(`${source}: expected sha256 must be 64 hex digits, got ${JSON.stringify(expected)}`);
    const cached = await this.get(want);
    if (cached) return cached;
    const content = await readSource(source, opts);
    const got = sha256(content);
    if (got !== want) {
      throw new Error(`sha256 mismatch for ${source}: expected ${want}, got ${got} (nothing was cached: check the source or the expected hash)`);
    }
    await this.#write(this.pathFor(want), content);
    return content;
  }

  /**
   * A text file that has no known hash (a sums file). A URL is fetched once and
   * kept at `<cache>/sums/<sha256 of URL>`: a release's sums file never changes,
   * and a later run must not need the network. A controller path is read each time. `check` throws when the
   * text is unusable: a bad fresh copy is not stored, a bad cached copy is fetched again.
   */
  async fetchText(source: string, check: (text: string) => void = () => undefined, opts: FetchOptions = {}): Promise<string> {
    if (!isUrl(source)) {
      // a controller file is read as it is now: nothing to keep
      const text = (await readSource(source, opts)).toString('utf8');
      check(text);
      return text;
    }
    const path = join(this.dir, 'sums', sha256(Buffer.from(source)));
    const cached = await readFile(path, 'utf8').catch(() => undefined);
    if (cached !== undefined) {
      try {
        check(cached);
        return cached;
      } catch {
        // fetch again below
      }
    }
    const text = (await readSource(source, opts)).toString('utf8');
    check(text);
    await this.#write(path, Buffer.from(text));
    return text;
  }

  async #write(path: string, content: Buffer): Promise<void> {
    await mkdir(join(path, '..'), { recursive: true });
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, content, { mode: 0o644 });
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
}

/** Read a controller-side file or download a URL with node's fetch. */
export async function readSource(source: string, opts: FetchOptions = {}): Promise<Buffer> {
  if (!isUrl(source)) {
    try {
      return await readFile(resolve(source));
    } catch (err) {
      throw new Error(`cannot read ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  }
  let res: Response;
  try {
    res = await fetch(source, { signal: AbortSignal.timeout(opts.timeoutMs ?? 600_000), redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`download of ${source} failed: ${cause?.message ?? cause?.code ?? (err as Error).message}`, { cause: err });
  }
  if (!res.ok) throw new Error(`download of ${source} failed: HTTP ${res.status} ${res.statusText}`);
  return Buffer.from(await res.arrayBuffer());
}
