import { resolve as resolvePath } from 'node:path';
import { ArtifactCache, isUrl, sha256, SHA256_HEX, type FetchOptions } from './cache.ts';
import { inspectElf, type ElfInfo } from './elf.ts';
import { extractMember } from './extract.ts';
import { hashFromSums } from './sums.ts';

/** Where an artifact comes from and how it is verified. */
export interface ArtifactSource {
  /** http(s) URL, downloaded by the controller. */
  readonly url?: string;
  /** Controller-side path (relative paths: from the working directory). */
  readonly file?: string;
  /** The hash of what url/file point at (the archive, when `extract` is set), or a sums file listing it. */
  readonly sha256: string | { readonly sumsFile: string; readonly name: string };
  /** Take this member out of a .zip / .tar.gz archive: the member is what gets installed. */
  readonly extract?: { readonly member: string };
}

/** What is uploaded: the final binary (extracted on the controller) and its own hash. */
export interface PreparedArtifact {
  readonly content: Buffer;
  readonly sha256: string;
  /** For messages: `url` or `file`, plus `!member` when extracted. */
  readonly source: string;
  /** ELF facts of the binary; undefined when it is not ELF (a script, a jar). */
  readonly elf: ElfInfo | undefined;
}

export interface ResolveOptions extends FetchOptions {
  cache?: ArtifactCache;
}

const memo = new Map<string, Promise<PreparedArtifact>>();

/**
 * Fetch (once, through the cache), verify, extract and inspect an artifact.
 * Memoized per process: many hosts of one run share one download and one
 * extraction; a failure is not memoized, so a later call retries.
 */
export function resolveArtifact(spec: ArtifactSource, opts: ResolveOptions = {}): Promise<PreparedArtifact> {
  const cache = opts.cache ?? new ArtifactCache();
  const source = spec.url ?? resolvePath(spec.file ?? '');
  const key = JSON.stringify([cache.dir, source, spec.sha256, spec.extract?.member ?? null]);
  let p = memo.get(key);
  if (!p) {
    p = doResolve(spec, source, cache, opts);
    memo.set(key, p);
    p.catch(() => memo.delete(key));
  }
  return p;
}

async function doResolve(spec: ArtifactSource, source: string, cache: ArtifactCache, opts: FetchOptions): Promise<PreparedArtifact> {
  let expected: string;
  if (typeof spec.sha256 === 'string') {
    expected = spec.sha256.toLowerCase();
    if (!SHA256_HEX.test(expected)) throw new Error(`${source}: sha256 must be 64 hex digits, got ${JSON.stringify(spec.sha256)}`);
  } else {
    const sums = isUrl(spec.sha256.sumsFile) ? spec.sha256.sumsFile : resolvePath(spec.sha256.sumsFile);
    const { name } = spec.sha256;
    expected = hashFromSums(await cache.fetchText(sums, (text) => void hashFromSums(text, name, sums), opts), name, sums);
  }
  const fetched = await cache.fetch(source, expected, opts);
  const content = spec.extract ? extractMember(fetched, spec.extract.member, source) : fetched;
  return {
    content,
    sha256: spec.extract ? sha256(content) : expected,
    source: spec.extract ? `${source}!${spec.extract.member}` : source,
    elf: inspectElf(content),
  };
}
