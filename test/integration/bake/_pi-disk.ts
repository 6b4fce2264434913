/**
 * A Raspberry Pi OS-shaped disk image for the pi-image test: one sparse file with
 * an MBR, partition 1 FAT32 (type c, "bootfs", at sector 8192 like Pi OS) and
 * partition 2 ext4 ("rootfs"), attached with `losetup -P`, made and mounted the
 * way docs/pi-image.md tells an operator to.
 *
 * The FAT partition is mounted by the kernel (vfat) where the kernel has it; a
 * kernel without vfat (this CI VM's) gets fusefat, a userspace FAT driver, run in
 * the foreground by us so its exit (all data written) can be awaited.
 *
 * Everything made is undone by dispose(), in reverse: containers are the test's
 * business; mounts, fusefat, the loop device here. Names start with cairn-piimg.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function run(cmd: string, args: readonly string[], input?: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 600_000, ...(input !== undefined ? { input } : {}) });
}

export function must(cmd: string, args: readonly string[], input?: string): string {
  const r = run(cmd, args, input);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Does the running kernel mount FAT itself? */
export function kernelHasVfat(): boolean {
  return /\tvfat$/m.test(readFileSync('/proc/filesystems', 'utf8'));
}

/** Tools the disk needs (each named in test/install-deps.sh), or the first one missing. */
export function missingDiskTool(): string | undefined {
  const tools = ['truncate', 'sfdisk', 'losetup', 'partx', 'mkfs.vfat', 'fsck.vfat', 'mkfs.ext4', 'e2fsck', 'mtype', 'mount', 'umount', ...(kernelHasVfat() ? [] : ['fusefat', 'fusermount'])];
  return tools.find((t) => run('sh', ['-c', `command -v ${t}`]).status !== 0);
}

interface Mounted {
  readonly dir: string;
  /** fusefat's pid when the FAT partition is mounted in userspace. */
  readonly fuse?: number;
}

export class PiDisk {
  readonly image: string;
  #loop?: string;
  readonly #mounts: Mounted[] = [];

  constructor(
    readonly dir: string,
    readonly bootMiB = 64,
    readonly rootMiB = 640,
  ) {
    this.image = join(dir, 'cairn-piimg.img');
  }

  get loop(): string {
    if (!this.#loop) throw new Error('the image is not attached');
    return this.#loop;
  }

  part(n: 1 | 2): string {
    return `${this.loop}p${n}`;
  }

  /** truncate + sfdisk (MBR: FAT32 LBA boot at 4 MiB, Linux root after it). */
  create(): void {
    must('truncate', ['-s', `${4 + this.bootMiB + this.rootMiB}M`, this.image]);
    // sectors of 512 bytes; partition 2 starts right after 1 (sfdisk would put it in the gap before)
    const rootStart = 8192 + this.bootMiB * 2048;
    must('sfdisk', ['--quiet', this.image], `label: dos\nstart=8192, size=${this.bootMiB * 2048}, type=c\nstart=${rootStart}, type=83\n`);
  }

  /** losetup -P; where no udev makes the partition nodes, partx adds them (devtmpfs then shows them). */
  async attach(): Promise<void> {
    this.#loop = must('losetup', ['--find', '--show', '--partscan', this.image]).trim();
    for (let i = 0; i < 20 && !(existsSync(this.part(1)) && existsSync(this.part(2))); i++) {
      if (i === 2) run('partx', ['--add', this.loop]);
      await sleep(250);
    }
    if (!existsSync(this.part(2))) throw new Error(`no partition devices ${this.part(1)}, ${this.part(2)} after losetup -P and partx -a`);
  }

  mkfs(): void {
    must('mkfs.vfat', ['-F', '32', '-n', 'bootfs', this.part(1)]);
    must('mkfs.ext4', ['-q', '-F', '-L', 'rootfs', this.part(2)]);
  }

  mountRoot(at: string): void {
    mkdirSync(at, { recursive: true });
    must('mount', [this.part(2), at]);
    this.#mounts.push({ dir: at });
  }

  /** The FAT partition at `at`: kernel vfat, else fusefat (read-write) in the foreground. */
  async mountBoot(at: string): Promise<void> {
    mkdirSync(at, { recursive: true });
    if (kernelHasVfat()) {
      must('mount', ['-t', 'vfat', this.part(1), at]);
      this.#mounts.push({ dir: at });
      return;
    }
    const p = spawn('fusefat', ['-f', '-o', 'rw+', this.part(1), at], { stdio: 'ignore' });
    this.#mounts.push({ dir: at, fuse: p.pid! });
    for (let i = 0; i < 40; i++) {
      if (readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${at} `)) return;
      await sleep(250);
    }
    throw new Error(`fusefat did not mount ${this.part(1)} at ${at}`);
  }

  /** Unmount `dir` (made by this disk); a fusefat mount is done when its process has exited. */
  async unmount(dir: string): Promise<void> {
    const i = this.#mounts.findIndex((m) => m.dir === dir);
    if (i < 0) return;
    const [m] = this.#mounts.splice(i, 1) as [Mounted];
    if (m.fuse === undefined) {
      must('umount', [m.dir]);
      return;
    }
    must('fusermount', ['-u', m.dir]);
    for (let n = 0; n < 100 && alive(m.fuse); n++) await sleep(100);
    if (alive(m.fuse)) throw new Error(`fusefat (pid ${m.fuse}) still runs after fusermount -u ${m.dir}`);
  }

  async unmountAll(): Promise<void> {
    for (const m of [...this.#mounts].reverse()) await this.unmount(m.dir);
  }

  /** Best effort, for after.always: every mount, then the loop device. */
  async dispose(): Promise<void> {
    for (const m of [...this.#mounts].reverse()) {
      try {
        await this.unmount(m.dir);
      } catch {
        run(m.fuse === undefined ? 'umount' : 'fusermount', m.fuse === undefined ? ['--lazy', m.dir] : ['-uz', m.dir]);
        if (m.fuse !== undefined && alive(m.fuse)) process.kill(m.fuse, 'SIGKILL');
      }
    }
    this.#mounts.length = 0;
    if (this.#loop) {
      run('losetup', ['-d', this.#loop]);
      this.#loop = undefined;
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
