import { existsSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import type { Facts, Vars } from 'cairn-provision';

/**
 * The artifacts contract (docs/roles-nomad-consul.md):
 *
 *   <product>_artifacts:
 *     musl_amd64:   { file: dist/nomad_{version}_linux_amd64_musl.zip, sums: dist/nomad_{version}_SHA256SUMS }
 *     glibc_arm64:  { url: https://.../nomad_{version}_linux_arm64.zip, sha256: <64 hex> }
 *     static_arm64: { file: ..., sums: ..., sums_name: ..., member: nomad }
 *     default:      { ... }      # any host; libc and arch read from the ELF header
 *
 * Keys: <libc>_<arch> with libc musl | glibc | static and arch amd64 | arm64 | arm,
 * or `default`. Lookup for a host: <libc>_<arch>, static_<arch>, default, then
 * the other libc's <arch> entry (a static musl build runs on glibc; a glibc
 * build aimed at a musl host is refused by the artifact step, with the reason).
 */
export const PRODUCTS = ['nomad', 'consul'] as const;
export type Product = (typeof PRODUCTS)[number];
const KEY = /^(musl|glibc|static)_(amd64|arm64|arm)$/;
const FIELDS = new Set(['file', 'url', 'sha256', 'sums', 'sums_name', 'member']);

export interface ArtifactEntry {
  readonly key: string;
  readonly file?: string;
  readonly url?: string;
  readonly sha256?: string;
  readonly sums?: string;
  readonly sumsName?: string;
  /** Archive member to install; undefined = the file is the binary itself. */
  readonly member?: string;
  /** From the key (undefined for `default`). */
  readonly arch?: 'amd64' | 'arm64' | 'arm';
}

export interface EntryProblem {
  /** Dotted var path for ctx.locate, e.g. nomad_artifacts.musl_amd64.file */
  readonly varPath: string;
  readonly message: string;
  readonly fix: string;
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

function subst(text: string, version: string, arch: string | undefined): string {
  return text.replace(/\{version\}/g, version).replace(/\{arch\}/g, arch ?? '{arch}');
}

/** Parse and check `<product>_artifacts` (before any connection). */
export function parseArtifacts(product: Product, vars: Vars, baseDir: string): { entries: Map<string, ArtifactEntry>; problems: EntryProblem[] } {
  const varName = `${product}_artifacts`;
  const raw = vars[varName];
  const version = vars[`${product}_version`] === undefined ? '' : String(vars[`${product}_version`]);
  const entries = new Map<string, ArtifactEntry>();
  const problems: EntryProblem[] = [];
  const example = `${varName}: { musl_amd64: { file: ./dist/${product}_${version || '1.9.7'}_linux_amd64_musl.zip, sums: ./dist/${product}_${version || '1.9.7'}_SHA256SUMS } }`;
  if (raw === undefined || raw === null) {
    problems.push({ varPath: varName, message: `${varName} is not set: cairn does not know where the ${product} binary comes from`, fix: `give one artifact per (libc, arch) of your hosts, e.g. ${example}; or remove ${product} from artifacts_products` });
    return { entries, problems };
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({ varPath: varName, message: `${varName} must be a map of <libc>_<arch> -> artifact, got ${Array.isArray(raw) ? 'a list' : typeof raw}`, fix: example });
    return { entries, problems };
  }
  if (Object.keys(raw).length === 0) problems.push({ varPath: varName, message: `${varName} is empty`, fix: example });
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const at = `${varName}.${key}`;
    const m = KEY.exec(key);
    if (!m && key !== 'default') {
      problems.push({ varPath: at, message: `${at}: unknown key '${key}'`, fix: 'keys are <libc>_<arch> (libc: musl, glibc or static; arch: amd64, arm64 or arm, as `uname -m` x86_64/aarch64/armv7l) or default' });
      continue;
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ varPath: at, message: `${at} must be a map with file or url, and sha256 or sums`, fix: example });
      continue;
    }
    const v = value as Record<string, unknown>;
    for (const f of Object.keys(v)) if (!FIELDS.has(f)) problems.push({ varPath: `${at}.${f}`, message: `${at}: unknown field '${f}'`, fix: `fields are ${[...FIELDS].join(', ')}` });
    const arch = m?.[2] as ArtifactEntry['arch'];
    let badField = false;
    const str = (f: string): string | undefined => {
      const x = v[f];
      if (x === undefined || x === null) return undefined;
      if (typeof x !== 'string' || x === '') {
        badField = true;
        problems.push({ varPath: `${at}.${f}`, message: `${at}.${f} must be a non-empty string, got ${JSON.stringify(x)}`, fix: `quote it: ${f}: "..."` });
        return undefined;
      }
      return subst(x, version, arch);
    };
    const file = str('file');
    const url = str('url');
    const sha256 = str('sha256');
    const sums = str('sums');
    const sumsName = str('sums_name');
    const memberRaw = v.member;
    if (badField) continue;
    if ((file === undefined) === (url === undefined)) {
      problems.push({ varPath: at, message: `${at} needs exactly one of file (on the controller) and url`, fix: `e.g. ${at}: { file: ./dist/${product}.zip, sums: ./dist/${product}_SHA256SUMS }` });
      continue;
    }
    if ((sha256 === undefined) === (sums === undefined)) {
      problems.push({ varPath: at, message: `${at} needs exactly one of sha256 (64 hex digits) and sums (the release's SHA256SUMS file)`, fix: 'every artifact is verified before it is installed' });
      continue;
    }
    if (sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(sha256)) problems.push({ varPath: `${at}.sha256`, message: `${at}.sha256 must be 64 hex digits, got ${JSON.stringify(sha256)}`, fix: 'copy it from the release SHA256SUMS, or give sums: <that file>' });
    const abs = (p: string) => (isUrl(p) || isAbsolute(p) ? p : resolve(baseDir, p));
    const src = file !== undefined ? abs(file) : url!;
    if (file !== undefined && !existsSync(src)) problems.push({ varPath: `${at}.file`, message: `${at}.file: ${src} does not exist on this machine`, fix: 'give a path relative to the inventory file, or an absolute one (or use url:)' });
    const sumsAbs = sums !== undefined ? abs(sums) : undefined;
    if (sumsAbs !== undefined && !isUrl(sumsAbs) && !existsSync(sumsAbs)) problems.push({ varPath: `${at}.sums`, message: `${at}.sums: ${sumsAbs} does not exist on this machine`, fix: 'give a path relative to the inventory file, an absolute one, or a URL' });
    let member: string | undefined;
    if (memberRaw === false || memberRaw === '') member = undefined;
    else if (typeof memberRaw === 'string') member = memberRaw;
    else if (memberRaw === undefined) member = /\.(zip|tgz|tar\.gz)$/i.test(src) ? product : undefined;
    else problems.push({ varPath: `${at}.member`, message: `${at}.member must be a file name inside the archive, or false`, fix: `e.g. member: ${product}` });
    entries.set(key, {
      key,
      ...(file !== undefined ? { file: src } : { url: src }),
      ...(sha256 !== undefined ? { sha256: sha256.toLowerCase() } : {}),
      ...(sumsAbs !== undefined ? { sums: sumsAbs, sumsName: sumsName ?? basename(src) } : {}),
      ...(member !== undefined ? { member } : {}),
      ...(arch ? { arch } : {}),
    });
  }
  return { entries, problems };
}

/** The keys tried for a host, in order. */
export function lookupOrder(facts: Pick<Facts, 'libc' | 'arch'>): string[] {
  const a = facts.arch;
  if (a === 'unknown' || a === '386') return ['default'];
  const exact = facts.libc === 'unknown' ? [] : [`${facts.libc}_${a}`];
  const other = facts.libc === 'musl' ? ['glibc'] : facts.libc === 'glibc' ? ['musl'] : ['musl', 'glibc'];
  return [...exact, `static_${a}`, 'default', ...other.map((l) => `${l}_${a}`)];
}

/** The entry for a host, or a message naming what was looked for and what exists. */
export function pickArtifact(product: Product, entries: Map<string, ArtifactEntry>, facts: Pick<Facts, 'libc' | 'arch' | 'machine'>, host: string): ArtifactEntry | { error: string } {
  const order = lookupOrder(facts);
  for (const k of order) {
    const e = entries.get(k);
    if (e) return e;
  }
  return {
    error:
      `no ${product} artifact for ${host} (${facts.libc} ${facts.arch}, uname -m: ${facts.machine}): looked up ${order.join(', ')} in ${product}_artifacts, ` +
      `which has ${[...entries.keys()].join(', ') || 'nothing'}; add ${product}_artifacts.${order[0]} (or a static_${facts.arch} build)`,
  };
}
