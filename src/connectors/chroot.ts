import { spawnSync } from 'node:child_process';
import { stdinOptionsOf, type Stdin, type StdinOptions } from './stdin.ts';
import { constants as fsc, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Connector, RunOptions } from './connector.ts';
import type { ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import { UnreachableError } from '../core/errors.ts';
import type { ConnectionSettings, HostSpec } from '../inventory/types.ts';
import { spawnCollect, toCommandResult } from './process.ts';

/** PATH inside the chroot (the controller's PATH may not make sense there). */
export const CHROOT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Pseudo file systems bind-mounted into the root, in mount order. */
export const CHROOT_MOUNTS = ['/proc', '/sys', '/dev', '/dev/pts'] as const;

/** A path inside the root resolves outside of it. */
export class RootEscapeError extends Error {
  constructor(root: string, p: string, why: string) {
    super(`${p} escapes the root ${root}: ${why}`);
    this.name = 'RootEscapeError';
  }
}

/**
 * Resolve `p` (absolute, as seen inside the root) to a path on the controller,
 * following symlinks the way the chroot'ed system would see them: absolute
 * link targets start again at the root. A `..` that would climb above the root
 * (in `p` or in a link) is refused. Missing components are kept as they are.
 * With followLast false, a final symlink is not followed.
 */
export async function resolveInRoot(root: string, p: string, options: { followLast?: boolean } = {}): Promise<string> {
  if (!p.startsWith('/')) throw new Error(`path ${p} must be absolute (as seen inside the root)`);
  const followLast = options.followLast ?? true;
  const queue = p.split('/').filter((c) => c !== '');
  const resolved: string[] = [];
  let links = 0;
  let missing = false;
  while (queue.length) {
    const c = queue.shift()!;
    if (c === '.') continue;
    if (c === '..') {
      if (resolved.length === 0) throw new RootEscapeError(root, p, '".." goes above the root');
      resolved.pop();
      continue;
    }
    const candidate = path.join(root, ...resolved, c);
    const isLast = queue.length === 0;
    if (!missing) {
      let st;
      try {
        st = await fsp.lstat(candidate);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
        missing = true;
      }
      if (st?.isSymbolicLink() && (!isLast || followLast)) {
        if (++links > 40) throw new Error(`too many levels of symbolic links resolving ${p} in ${root}`);
        const target = await fsp.readlink(candidate);
        if (target.startsWith('/')) resolved.length = 0;
        queue.unshift(...target.split('/').filter((x) => x !== ''));
        continue;
      }
    }
    resolved.push(c);
  }
  return path.join(root, ...resolved);
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

async function mountPoints(): Promise<Set<string>> {
  const text = await fsp.readFile('/proc/self/mountinfo', 'utf8');
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length > 4) out.add(unescapeMountinfo(f[4]!));
  }
  return out;
}

/** Mounts made by any ChrootConnector that are still there; undone if cairn exits without close(). */
const liveMounts = new Set<string>();
let exitHook = false;
function trackMount(target: string): void {
  liveMounts.add(target);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const t of [...liveMounts].reverse()) spawnSync('umount', ['--lazy', t], { stdio: 'ignore' });
  });
}

export interface ChrootConnectorOptions {
  /** Pseudo file systems to bind-mount (default CHROOT_MOUNTS). */
  mounts?: readonly string[];
}

/**
 * Runs commands inside a mounted root file system (image bakes):
 * `chroot <root> /bin/sh -c <text>` with a clean PATH. connect() checks that the
 * root has a shell and bind-mounts /proc, /sys, /dev and /dev/pts where nothing
 * is mounted yet; close() unmounts exactly those, in reverse order. A root of
 * another architecture works when qemu-user binfmt (with the F flag) is set up.
 * Needs root. Become is ignored (commands already run as root).
 */
export class ChrootConnector implements Connector {
  readonly kind = 'chroot' as const;
  readonly host: string;
  readonly root: string;
  /** The root with symlinks resolved (what /proc/self/mountinfo shows); set by connect(). */
  #real: string;
  readonly #defaultTimeoutMs: number;
  readonly #mountList: readonly string[];
  /** Mount points this connector mounted, in mount order. */
  readonly #mounted: string[] = [];
  #connecting?: Promise<void>;

  constructor(host: Pick<HostSpec, 'name' | 'root'>, settings?: Pick<ConnectionSettings, 'commandTimeoutMs'>, options: ChrootConnectorOptions = {}) {
    if (!host.root) throw new Error(`host ${host.name}: a chroot connection needs root (the mounted root file system)`);
    this.host = host.name;
    this.root = path.resolve(host.root);
    this.#real = this.root;
    this.#defaultTimeoutMs = settings?.commandTimeoutMs ?? 0;
    this.#mountList = options.mounts ?? CHROOT_MOUNTS;
  }

  /** Mount points inside the root that this connector mounted (and will unmount). */
  get mounted(): readonly string[] {
    return [...this.#mounted];
  }

  connect(): Promise<void> {
    this.#connecting ??= this.#connect().catch((err: unknown) => {
      this.#connecting = undefined;
      throw err;
    });
    return this.#connecting;
  }

  async #connect(): Promise<void> {
    if (process.getuid?.() !== 0) throw new UnreachableError(this.host, 'a chroot connection needs root privileges (run cairn as root)');
    let st;
    try {
      st = await fsp.stat(this.root);
    } catch (err) {
      throw new UnreachableError(this.host, `root ${this.root} does not exist (${(err as NodeJS.ErrnoException).code})`, { cause: err });
    }
    if (!st.isDirectory()) throw new UnreachableError(this.host, `root ${this.root} is not a directory`);
    this.#real = await fsp.realpath(this.root);
    let shell: string | undefined;
    for (const candidate of ['/bin/sh', '/usr/bin/sh']) {
      try {
        const real = await resolveInRoot(this.#real, candidate);
        const s = await fsp.stat(real);
        if (s.isFile() && (s.mode & 0o111) !== 0) {
          shell = candidate;
          break;
        }
      } catch {
        /* try the next */
      }
    }
    if (!shell) {
      throw new UnreachableError(
        this.host,
        `${this.root} does not look like a root file system: neither /bin/sh nor /usr/bin/sh is an executable inside it (is the image mounted there, is it complete?)`,
      );
    }
    try {
      const existing = await mountPoints();
      for (const source of this.#mountList) {
        const target = await resolveInRoot(this.#real, source);
        if (existing.has(target)) continue;
        await fsp.mkdir(target, { recursive: true });
        await this.#mount(source, target);
        existing.add(target);
      }
    } catch (err) {
      const undo = await this.#unmountAll();
      throw new UnreachableError(
        this.host,
        `could not prepare ${this.root}: ${(err as Error).message}${undo.length ? `; also failed to undo: ${undo.join('; ')}` : ''}`,
        { cause: err },
      );
    }
  }

  async #mount(source: string, target: string): Promise<void> {
    const bind = await spawnCollect('mount', ['--bind', source, target]);
    if (bind.exitCode !== 0) throw new Error(`mount --bind ${source} ${target} failed: ${bind.stderr.toString().trim()}`);
    this.#mounted.push(target);
    trackMount(target);
    // private: mounts made below it (dev/pts) must not propagate back to the controller's /dev
    const priv = await spawnCollect('mount', ['--make-private', target]);
    if (priv.exitCode !== 0) throw new Error(`mount --make-private ${target} failed: ${priv.stderr.toString().trim()}`);
  }

  /** Unmount what this connector mounted, last first; returns the failures (targets stay listed). */
  async #unmountAll(): Promise<string[]> {
    const failures: string[] = [];
    for (const target of [...this.#mounted].reverse()) {
      let res = await spawnCollect('umount', [target]);
      if (res.exitCode !== 0) {
        await new Promise((r) => setTimeout(r, 200));
        res = await spawnCollect('umount', [target]);
      }
      if (res.exitCode !== 0) {
        // still busy (a process inside keeps it open): detach it now, the kernel frees it later
        const lazy = await spawnCollect('umount', ['--lazy', target]);
        if (lazy.exitCode !== 0) {
          failures.push(`umount ${target}: ${res.stderr.toString().trim() || `exit ${res.exitCode}`}`);
          continue;
        }
      }
      this.#mounted.splice(this.#mounted.lastIndexOf(target), 1);
      liveMounts.delete(target);
    }
    return failures;
  }

  async run(command: ShellCommand, options: RunOptions = {}): Promise<CommandResult> {
    await this.connect();
    const spawnOpts: { stdin?: Stdin; stdinOptions?: StdinOptions; timeoutMs: number; env: NodeJS.ProcessEnv } = {
      timeoutMs: options.timeoutMs ?? this.#defaultTimeoutMs,
      env: { PATH: CHROOT_PATH, HOME: '/root', USER: 'root', LOGNAME: 'root', SHELL: '/bin/sh', LANG: 'C.UTF-8' },
    };
    if (options.stdin !== undefined) spawnOpts.stdin = options.stdin;
    spawnOpts.stdinOptions = stdinOptionsOf(options);
    const raw = await spawnCollect('chroot', [this.#real, '/bin/sh', '-c', command.text], spawnOpts);
    return toCommandResult(command, raw);
  }

  async upload(p: string, content: Buffer, options: { mode?: number } = {}): Promise<void> {
    await this.connect();
    const real = await resolveInRoot(this.#real, p);
    const fh = await fsp.open(real, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC | fsc.O_NOFOLLOW, options.mode ?? 0o644);
    try {
      await fh.writeFile(content);
      if (options.mode !== undefined) await fh.chmod(options.mode);
    } finally {
      await fh.close();
    }
  }

  async download(p: string): Promise<Buffer | undefined> {
    await this.connect();
    const real = await resolveInRoot(this.#real, p);
    let fh;
    try {
      fh = await fsp.open(real, fsc.O_RDONLY | fsc.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
    try {
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  /** Unmount what connect() mounted (in reverse order), even after earlier failures. */
  async close(): Promise<void> {
    await this.#connecting?.catch(() => undefined);
    this.#connecting = undefined;
    const failures = await this.#unmountAll();
    if (failures.length) throw new Error(`${this.host}: could not unmount: ${failures.join('; ')}`);
  }
}
