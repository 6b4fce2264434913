import { createHash } from 'node:crypto';
import type { Arch, Facts, InitSystem, KernelConfig, KernelOption, Libc, PackageManager } from './types.ts';
import { FACTS_FORMAT, SECTION_PREFIX } from './gather.ts';

export interface ParseFactsOptions {
  /** The connector is a chroot (or a mounted root): PID 1 is not the target's init. */
  chroot: boolean;
}

/** cgroup2 filesystem magic, as `stat -f -c %t` prints it. */
const CGROUP2_MAGIC = '63677270';
/** cgroup (v1) filesystem magic, when /sys/fs/cgroup is itself one hierarchy. */
const CGROUP1_MAGIC = '27e0eb';

/**
 * Split the output of `factsCommand()` into its sections (name -> lines).
 * Text before the first section (a login banner, a motd) is ignored.
 */
export function splitSections(stdout: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of stdout.replace(/\r\n/g, '\n').split('\n')) {
    if (line.startsWith(SECTION_PREFIX)) {
      current = [];
      sections.set(line.slice(SECTION_PREFIX.length).trim(), current);
    } else if (current) {
      current.push(line);
    }
  }
  for (const lines of sections.values()) {
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  }
  return sections;
}

/**
 * Read the output of `factsCommand()` (pure). Throws when the output is not facts
 * output at all or was cut short (no `end` section), so a truncated read never
 * becomes a half-known host.
 */
export function parseFacts(stdout: string, opts: ParseFactsOptions): Facts {
  const sec = splitSections(stdout);
  const version = first(sec, 'facts');
  if (version === undefined) throw new Error('facts: output has no @@cairn:facts section (not the output of factsCommand?)');
  if (version !== String(FACTS_FORMAT)) throw new Error(`facts: unknown format ${version} (this cairn reads ${FACTS_FORMAT})`);
  if (!sec.has('end')) throw new Error('facts: output was cut short (no @@cairn:end section)');

  const osRelease = parseOsRelease(lines(sec, 'os-release'));
  const machine = first(sec, 'machine') ?? '';
  const keyed = (name: string) => keyValues(lines(sec, name));
  const rootIds = keyed('root-ids');
  const chroot =
    opts.chroot || (Boolean(rootIds.root) && Boolean(rootIds.pid1root) && rootIds.root !== rootIds.pid1root);
  const initBins = lines(sec, 'init-bins').filter(Boolean);
  const initDirs = lines(sec, 'init-dirs').filter(Boolean);
  const installed = {
    openrc: initBins.some((b) => /\/openrc(-run)?$/.test(b)),
    systemd: initBins.some((b) => b.endsWith('/systemd')),
    s6: initBins.some((b) => b.endsWith('/s6-svscan')),
  };
  const pid1 = keyed('pid1');
  const init = chroot
    ? installedInit(installed)
    : runningInit(pid1.comm ?? '', pid1.exe ?? '', initDirs, first(sec, 's6-running') === 'running');
  const hostname = (chroot ? first(sec, 'etc-hostname') : undefined) || first(sec, 'hostname') || first(sec, 'etc-hostname') || '';
  const { config, configSource } = parseKernelConfig(lines(sec, 'kernel-config'));

  // The facts outlive the output: a structured clone holds none of its text (a short
  // field sliced from it would keep the whole output alive, per host, for the run). The
  // kernel config is shared, so it is left out of the copy.
  const facts: Facts = structuredClone({
    hostname,
    os: {
      id: osRelease.ID ?? '',
      versionId: osRelease.VERSION_ID ?? '',
      like: (osRelease.ID_LIKE ?? '').split(/\s+/).filter(Boolean),
      prettyName: osRelease.PRETTY_NAME ?? '',
      family: osFamily(osRelease.ID ?? '', osRelease.ID_LIKE ?? ''),
    },
    machine,
    arch: normaliseArch(machine),
    libc: detectLibc(lines(sec, 'ldd'), lines(sec, 'loaders'), first(sec, 'glibc')),
    init,
    // systemd supervises only as PID 1 (or, in a chroot, once the image boots); openrc-run
    // and s6-svscan are usable whenever installed (s6 can run under OpenRC)
    supervisors: { ...installed, systemd: installed.systemd && (chroot || init === 'systemd') },
    packageManager: packageManager(lines(sec, 'pkg')),
    kernel: { release: first(sec, 'kernel-release') ?? '', config: undefined, configSource },
    cgroup: parseCgroup(first(sec, 'cgroup-fs') ?? '', first(sec, 'cgroup-v2'), lines(sec, 'cgroup-v1')),
    memoryMb: parseMemTotal(first(sec, 'meminfo')),
    cpus: parseCount(first(sec, 'cpus')),
    chroot,
  });
  facts.kernel.config = config;
  return facts;
}

function lines(sec: Map<string, string[]>, name: string): string[] {
  return sec.get(name) ?? [];
}

function first(sec: Map<string, string[]>, name: string): string | undefined {
  const l = sec.get(name)?.find((x) => x.trim() !== '');
  return l?.trim();
}

function keyValues(ls: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of ls) {
    const i = l.indexOf('=');
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1).trim();
  }
  return out;
}

/** os-release: KEY=value, value optionally in double or single quotes (with \-escapes in double quotes). */
export function parseOsRelease(ls: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of ls) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(l.trim());
    if (!m) continue;
    let v = m[2] ?? '';
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    else if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) v = v.slice(1, -1);
    out[m[1] ?? ''] = v;
  }
  return out;
}

export function normaliseArch(machine: string): Arch {
  switch (machine) {
    case 'x86_64':
    case 'amd64':
      return 'amd64';
    case 'aarch64':
    case 'arm64':
    case 'aarch64_be':
      return 'arm64';
    case 'i386':
    case 'i486':
    case 'i586':
    case 'i686':
      return '386';
    default:
      return /^armv[5-8]/.test(machine) || machine === 'arm' ? 'arm' : 'unknown';
  }
}

export function osFamily(id: string, idLike: string): Facts['os']['family'] {
  const words = [id, ...idLike.split(/\s+/)].map((w) => w.toLowerCase());
  if (words.includes('alpine') || words.includes('postmarketos')) return 'alpine';
  if (words.includes('debian') || words.includes('raspbian') || words.includes('ubuntu')) return 'debian';
  return 'unknown';
}

/**
 * `ldd --version` is the strongest sign (it is the libc the system's tools use);
 * then getconf; then which dynamic loaders exist (a Debian host may also carry
 * /lib/ld-musl-*.so.1 from the musl package, so loaders alone decide only when one kind exists).
 */
export function detectLibc(ldd: readonly string[], loaders: readonly string[], glibcVersion: string | undefined): Libc {
  const text = ldd.join('\n');
  if (/\bmusl\b/i.test(text)) return 'musl';
  if (/GLIBC|GNU libc|glibc/.test(text)) return 'glibc';
  if (glibcVersion && /^glibc /i.test(glibcVersion)) return 'glibc';
  const musl = loaders.some((l) => l.includes('ld-musl-'));
  const glibc = loaders.some((l) => l.includes('ld-linux'));
  if (musl && !glibc) return 'musl';
  if (glibc && !musl) return 'glibc';
  return 'unknown';
}

/** The init system running as PID 1, from its name and what it leaves in /run. */
export function runningInit(comm: string, exe: string, initDirs: readonly string[], s6Running: boolean): InitSystem {
  const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);
  const names = [comm, base(exe)];
  if (names.includes('systemd') || initDirs.includes('/run/systemd/system')) return 'systemd';
  if (names.includes('s6-svscan')) return 's6';
  if (names.includes('openrc-init') || initDirs.includes('/run/openrc')) return 'openrc';
  // busybox init / sysvinit starting s6 from inittab (s6-overlay without OpenRC)
  if ((names.includes('init') || names.includes('busybox')) && s6Running) return 's6';
  return 'unknown';
}

/** In a chroot PID 1 belongs to the controller: decide from what the image has installed. */
export function installedInit(installed: { openrc: boolean; systemd: boolean; s6: boolean }): InitSystem {
  if (installed.openrc) return 'openrc';
  if (installed.systemd) return 'systemd';
  if (installed.s6) return 's6';
  return 'unknown';
}

function packageManager(ls: readonly string[]): PackageManager {
  if (ls.some((l) => l.trim().endsWith('/apk'))) return 'apk';
  if (ls.some((l) => l.trim().endsWith('/apt-get'))) return 'apt';
  return 'unknown';
}

/**
 * Kernel configs parsed in this process, by a hash of their options: the hosts of one
 * kernel build (a fleet of the same board and image) share one frozen object of several
 * thousand options instead of a copy each.
 */
const kernelConfigs = new Map<string, KernelConfig>();

export function parseKernelConfig(ls: readonly string[]): Pick<Facts['kernel'], 'config' | 'configSource'> {
  const src = ls.find((l) => l.startsWith('source='));
  if (!src) return { config: undefined, configSource: undefined };
  const options: string[] = [];
  for (const l of ls) {
    const t = l.trim();
    if (/^CONFIG_[A-Za-z0-9_]+=[ym]$/.test(t)) options.push(t);
  }
  const key = createHash('sha256').update(options.join('\n')).digest('base64');
  let config = kernelConfigs.get(key);
  if (!config) {
    const parsed: Record<string, KernelOption> = {};
    for (const o of options) {
      const eq = o.lastIndexOf('=');
      parsed[o.slice('CONFIG_'.length, eq)] = o.slice(eq + 1) as KernelOption;
    }
    config = Object.freeze(parsed);
    kernelConfigs.set(key, config);
  }
  return { config, configSource: src.slice('source='.length).trim() };
}

/**
 * cgroup version from the filesystem type of /sys/fs/cgroup: cgroup2 -> 2; a tmpfs
 * (or cgroup v1 fs) with v1 hierarchies attached -> 1 (a hybrid setup counts as 1: the
 * controllers live in v1); nothing mounted -> 0.
 */
export function parseCgroup(fsType: string, v2Controllers: string | undefined, procCgroups: readonly string[]): Facts['cgroup'] {
  const magic = fsType.trim().toLowerCase();
  if (magic === CGROUP2_MAGIC) {
    return { version: 2, controllers: (v2Controllers ?? '').split(/\s+/).filter(Boolean) };
  }
  const v1: string[] = [];
  for (const l of procCgroups) {
    if (l.startsWith('#')) continue;
    const [name, hierarchy, , enabled] = l.trim().split(/\s+/);
    if (name && hierarchy && hierarchy !== '0' && enabled === '1') v1.push(name);
  }
  if (magic !== '' && (magic === CGROUP1_MAGIC || v1.length > 0)) return { version: 1, controllers: v1 };
  return { version: 0, controllers: [] };
}

/** A count printed by `grep -c`; 0 when missing (captures older than the section, no /proc). */
function parseCount(line: string | undefined): number {
  return /^\d+$/.test(line?.trim() ?? '') ? Number(line!.trim()) : 0;
}

function parseMemTotal(line: string | undefined): number {
  const m = /^MemTotal:\s*(\d+)\s*kB/.exec(line ?? '');
  return m ? Math.floor(Number(m[1]) / 1024) : 0;
}
