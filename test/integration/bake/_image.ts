/**
 * Test bed for image bakes: real Alpine roots made from the shared minirootfs
 * tarballs and local apk repositories (the test bed's mk-alpine-root.sh), baked
 * by the real CLI through the chroot connector, then booted as COPIES under
 * systemd-nspawn (busybox init + OpenRC + sshd), each copy in its own private
 * network namespace (nspawn --private-network: only lo), so two hosts from one
 * image run side by side with the same addresses and ports.
 *
 * Everything lives under /var/tmp/cairn-bake-test/<run>/ and is removed by
 * `dispose()`; containers are stopped through their own init (SIGUSR2 =
 * poweroff, as the test bed's stop-nspawn.sh does), mounts made here are undone.
 * Needs root, systemd-nspawn, and for aarch64 qemu-user binfmt.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const WORK_BASE = '/var/tmp/cairn-bake-test';

/** The shared Alpine test-bed data (minirootfs, repos, keys, scripts). */
export function testbedDir(): string {
  const candidates = [process.env.CAIRN_TESTBED_ALPINE, join(REPO_ROOT, '../shared/testbed/alpine'), '/work/shared/testbed/alpine'];
  for (const c of candidates) if (c && existsSync(join(c, 'bin/mk-alpine-root.sh'))) return c;
  throw new Error(`the Alpine test-bed data was not found (looked in ${candidates.filter(Boolean).join(', ')}); set CAIRN_TESTBED_ALPINE`);
}

export interface ImageKind {
  readonly name: 'x86_64' | 'aarch64';
  readonly tarball: string;
  /** Repo parent dir (holds <arch>/). */
  readonly repo: string;
  readonly pkgs?: string;
  /** Stand-in agent build target for this arch. */
  readonly standin: 'amd64_musl' | 'arm64_static';
  /** Seconds a boot may take until sshd answers. */
  readonly bootTimeoutS: number;
  /** Services that must be running after boot. */
  readonly services: readonly string[];
}

export function imageKind(name: 'x86_64' | 'aarch64'): ImageKind {
  const tb = testbedDir();
  if (name === 'x86_64') {
    return { name, tarball: join(tb, 'minirootfs/alpine-minirootfs-3.19.4-x86_64.tar.gz'), repo: join(tb, 'repo/v3.19'), standin: 'amd64_musl', bootTimeoutS: 60, services: ['sshd', 'hello', 'consul', 'nomad'] };
  }
  // RECIPE.md: only the v3.7 aarch64 repo has openrc + openssh
  return {
    name,
    tarball: join(tb, 'minirootfs/alpine-minirootfs-3.7.3-aarch64.tar.gz'),
    repo: join(tb, 'repo/v3.7'),
    pkgs: 'openrc openssh-server openssh-sftp-server openssh-client busybox-initscripts busybox-suid tzdata',
    standin: 'arm64_static',
    bootTimeoutS: 120,
    // the demo hello's init script needs supervise-daemon's output_log (OpenRC >= 0.25):
    // on 3.7 it is enabled by the bake but does not start; not a bake matter
    services: ['sshd', 'consul', 'nomad'],
  };
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: opts.timeoutMs ?? 300_000, ...(opts.env ? { env: { ...process.env, ...opts.env } } : {}), ...(opts.input !== undefined ? { input: opts.input } : {}) });
}

export function must(r: SpawnSyncReturns<string>, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ''}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Is qemu-user binfmt for aarch64 usable (enabled, with the F flag)? Tries to enable it first. */
export function ensureAarch64Binfmt(): boolean {
  if (!existsSync('/proc/sys/fs/binfmt_misc/status')) run('sh', ['-c', 'mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null']);
  const f = '/proc/sys/fs/binfmt_misc/qemu-aarch64';
  if (!existsSync(f) || !readFileSync(f, 'utf8').startsWith('enabled')) run('sh', ['-c', 'update-binfmts --enable qemu-aarch64 2>/dev/null']);
  return existsSync(f) && readFileSync(f, 'utf8').startsWith('enabled') && /flags: \S*F/.test(readFileSync(f, 'utf8'));
}

/** Why this machine cannot run the bake tests, or undefined when it can. */
export function cannotRun(kind: 'x86_64' | 'aarch64'): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (chroot, mounts, systemd-nspawn)';
  if (run('sh', ['-c', 'command -v systemd-nspawn']).status !== 0) return 'needs systemd-nspawn (Debian systemd-container)';
  try {
    testbedDir();
  } catch (err) {
    return (err as Error).message;
  }
  if (kind === 'aarch64' && !ensureAarch64Binfmt()) return 'needs qemu-user binfmt for aarch64 with the F flag (qemu-user-static, binfmt-support)';
  return undefined;
}

/** A scratch directory for one test file; removed by dispose(). */
export class Workspace {
  readonly dir: string;
  readonly #mounts: string[] = [];
  readonly #hosts: BootedHost[] = [];
  constructor(label: string) {
    mkdirSync(WORK_BASE, { recursive: true });
    this.dir = mkdtempSync(join(WORK_BASE, `${label}-`));
  }

  /** Build an Alpine root (mk-alpine-root.sh, sshd on 127.0.0.31:2322, no network service). */
  makeRoot(kind: ImageKind, name = 'image'): string {
    const tb = testbedDir();
    const root = join(this.dir, name);
    const env: NodeJS.ProcessEnv = kind.pkgs ? { PKGS: kind.pkgs } : {};
    must(
      run('sh', [join(tb, 'bin/mk-alpine-root.sh'), kind.tarball, kind.repo, root, join(tb, 'keys/alpine-tb-local.rsa.pub'), join(tb, 'keys/test-client-id_ed25519.pub'), 'hostnet'], { env }),
      `mk-alpine-root.sh for ${kind.name}`,
    );
    // booted with nspawn --private-network, lo is already up with 127.0.0.1: busybox
    // ifup (Alpine 3.7) fails on `iface lo inet loopback` ("File exists") and then
    // every service that needs net is refused; ifupdown-ng (3.19) tolerates it
    if (kind.name === 'aarch64') writeFileSync(join(root, 'etc/network/interfaces'), '# lo is already up (systemd-nspawn --private-network)\nauto lo\niface lo inet manual\n');
    return root;
  }

  /** Bind the local apk repo read-only at <root>/media/apks (apk works offline in the chroot) until dispose(). */
  bindRepo(root: string, kind: ImageKind): void {
    const target = join(root, 'media/apks');
    mkdirSync(target, { recursive: true });
    must(run('mount', ['--bind', kind.repo, target]), 'bind-mounting the apk repo');
    this.#mounts.push(target);
    must(run('mount', ['-o', 'remount,ro,bind', target]), 'remounting the apk repo read-only');
  }

  unbindRepo(root: string): void {
    const target = join(root, 'media/apks');
    const i = this.#mounts.indexOf(target);
    if (i < 0) return;
    must(run('umount', [target]), `umount ${target}`);
    this.#mounts.splice(i, 1);
  }

  /** The test client key, mode 0600 (git does not keep modes). */
  clientKey(): string {
    const key = join(this.dir, 'client_ed25519');
    if (!existsSync(key)) {
      copyFileSync(join(testbedDir(), 'keys/test-client-id_ed25519'), key);
      chmodSync(key, 0o600);
    }
    return key;
  }

  /**
   * Write an inventory with one chroot host (`root:`) running `roles`; roles are
   * looked up in <dir>/roles, made of links to the demo roles and the test roles.
   */
  inventory(opts: { root: string; roles: string[]; vars?: Record<string, unknown>; file?: string }): string {
    const invDir = join(this.dir, 'inventory');
    mkdirSync(join(invDir, 'roles'), { recursive: true });
    for (const base of [join(REPO_ROOT, 'inventory/roles'), join(REPO_ROOT, 'test/integration/bake/roles')]) {
      for (const r of readdirSync(base)) {
        const link = join(invDir, 'roles', r);
        if (!existsSync(link)) symlinkSync(join(base, r), link);
      }
    }
    const file = join(invDir, opts.file ?? 'bake.yml');
    writeFileSync(
      file,
      stringify({
        vars: { site_name: 'cairn bake test', ...(opts.vars ?? {}) },
        hosts: { image: { connection: 'chroot', root: opts.root } },
        groups: { baked: { hosts: ['image'], roles: opts.roles } },
      }),
    );
    return file;
  }

  /** Copy the baked root and boot the copy (own network namespace). */
  async boot(image: string, name: string, kind: ImageKind): Promise<BootedHost> {
    const root = join(this.dir, name);
    must(run('cp', ['-a', image, root]), `copying the image to ${root}`);
    const host = new BootedHost(root, `cairn-bake-${name}-${process.pid}`, join(this.dir, `${name}.console.log`), this.clientKey());
    this.#hosts.push(host);
    await host.start(kind.bootTimeoutS);
    return host;
  }

  /** Stop every container, undo mounts, delete the directory. */
  async dispose(): Promise<void> {
    for (const h of this.#hosts.splice(0)) await h.stop();
    for (const m of this.#mounts.splice(0).reverse()) run('umount', [m]).status === 0 || run('umount', ['--lazy', m]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One copy of the image booted under systemd-nspawn. */
export class BootedHost {
  #nspawnPid?: number;
  #initPid?: number;
  constructor(
    readonly root: string,
    readonly machine: string,
    readonly log: string,
    readonly key: string,
  ) {}

  async start(timeoutS: number): Promise<void> {
    const out = `${this.log}`;
    const child = spawn(
      'sh',
      [
        '-c',
        'exec systemd-nspawn -D "$1" -M "$2" --register=no --keep-unit --private-network --resolv-conf=off --timezone=off --link-journal=no --console=read-only -b >"$3" 2>&1 </dev/null',
        'sh',
        this.root,
        this.machine,
        out,
      ],
      { detached: true, stdio: 'ignore' },
    );
    child.unref();
    this.#nspawnPid = child.pid;
    const deadline = Date.now() + timeoutS * 1000;
    while (Date.now() < deadline) {
      // look again every time: early on, nspawn's child can be its transient setup
      // process rather than the container's init, and that pid is gone moments later
      const r = run('ps', ['-eo', 'pid=,ppid=']);
      const line = r.stdout.split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[1] === String(this.#nspawnPid));
      this.#initPid = line ? Number(line[0]) : undefined;
      if (this.#initPid && this.ssh('true', 10).status === 0) return;
      if (run('kill', ['-0', String(this.#nspawnPid)]).status !== 0) break;
      await sleep(500);
    }
    throw new Error(`${this.machine} did not accept ssh within ${timeoutS}s; console:\n${existsSync(out) ? readFileSync(out, 'utf8').slice(-3000) : '(none)'}`);
  }

  /** Run a command with the controller's tools inside the container's network namespace. */
  inNetns(cmd: string, args: string[], timeoutS = 30): SpawnSyncReturns<string> {
    return run('nsenter', ['-t', String(this.#initPid), '-n', 'timeout', String(timeoutS), cmd, ...args]);
  }

  /** ssh root@127.0.0.31:2322 inside the container's network (sshd of the image). */
  ssh(command: string, timeoutS = 30): SpawnSyncReturns<string> {
    return this.inNetns(
      'ssh',
      ['-n', '-i', this.key, '-p', '2322', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=5', 'root@127.0.0.31', command],
      timeoutS,
    );
  }

  /** The ed25519 host key sshd presents (ssh-keyscan). */
  scannedHostKey(): string {
    const r = this.inNetns('ssh-keyscan', ['-p', '2322', '-t', 'ed25519', '127.0.0.31']);
    const line = r.stdout.split('\n').find((l) => l.includes('ssh-ed25519'));
    if (!line) throw new Error(`ssh-keyscan of ${this.machine} found no ed25519 key: ${r.stderr}`);
    return line.split(/\s+/).slice(1, 3).join(' ');
  }

  /** A file of the running copy, read from the controller. */
  read(path: string): string | undefined {
    const p = join(this.root, path);
    return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
  }

  /** Wait until `check` passes (e.g. a service wrote its node id). */
  async until(what: string, check: () => boolean, timeoutS = 60): Promise<void> {
    const deadline = Date.now() + timeoutS * 1000;
    while (Date.now() < deadline) {
      if (check()) return;
      await sleep(500);
    }
    throw new Error(`${this.machine}: ${what} did not happen within ${timeoutS}s; console:\n${readFileSync(this.log, 'utf8').slice(-3000)}`);
  }

  /** Poweroff through busybox init (SIGUSR2), then SIGTERM/SIGKILL to nspawn if it hangs. */
  async stop(): Promise<void> {
    const pid = this.#nspawnPid;
    if (!pid) return;
    const alive = () => run('kill', ['-0', String(pid)]).status === 0;
    if (this.#initPid) run('kill', ['-USR2', String(this.#initPid)]);
    for (let i = 0; i < 150 && alive(); i++) await sleep(100);
    if (alive()) run('kill', [String(pid)]);
    for (let i = 0; i < 50 && alive(); i++) await sleep(100);
    if (alive()) run('kill', ['-9', String(pid)]);
    this.#nspawnPid = undefined;
  }
}

/**
 * Make a fresh root look like a machine that has been used: what a build VM or
 * a root touched by hand carries. Returns the planted paths by item id.
 */
export function plantBuildLeftovers(root: string): Record<string, string[]> {
  const put = (p: string, content: string, mode = 0o644) => {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), content, { mode });
  };
  must(run('ssh-keygen', ['-q', '-A', '-f', root]), 'ssh-keygen -A -f <root>');
  const hostKeys = readdirSync(join(root, 'etc/ssh')).filter((f) => f.startsWith('ssh_host_')).map((f) => `/etc/ssh/${f}`);
  put('/etc/machine-id', '0123456789abcdef0123456789abcdef\n');
  put('/opt/nomad/data/client/client-id', 'planted-nomad-id\n', 0o600);
  put('/opt/nomad/data/node-id', 'planted-nomad-id\n', 0o600);
  put('/opt/nomad/data/server/node-id', 'planted-nomad-id\n', 0o600);
  put('/opt/consul/node-id', 'planted-consul-id\n', 0o600);
  put('/opt/consul/serf/local.keyring', '["planted"]\n', 0o600);
  put('/var/log/messages', 'Jan  1 00:00:00 buildvm sshd[1]: Accepted publickey for root from 10.0.2.2\n');
  put('/var/log/messages.0', 'older\n');
  put('/var/log/consul/consul.log', 'agent: node id planted-consul-id\n');
  put('/root/.ash_history', 'export SECRET=hunter2\n', 0o600);
  put('/tmp/build-download.tar.gz', 'junk\n');
  put('/var/tmp/leftover/file', 'junk\n');
  put('/var/cache/apk/APKINDEX.0123abcd.tar.gz', 'index\n');
  put('/var/lib/misc/random-seed', 'seed\n', 0o600);
  put('/etc/motd.cairn-bak.1700000000', 'old motd\n');
  return {
    'machine-id': ['/etc/machine-id'],
    'ssh-host-keys': hostKeys,
    'nomad-state': ['/opt/nomad/data/client', '/opt/nomad/data/node-id', '/opt/nomad/data/server'],
    'consul-state': ['/opt/consul/node-id', '/opt/consul/serf'],
    logs: ['/var/log/messages.0', '/var/log/messages', '/var/log/consul/consul.log'],
    'shell-history': ['/root/.ash_history'],
    tmp: ['/tmp/build-download.tar.gz', '/var/tmp/leftover'],
    'package-cache': ['/var/cache/apk/APKINDEX.0123abcd.tar.gz'],
    'random-seed': ['/var/lib/misc/random-seed'],
    'cairn-backups': ['/etc/motd.cairn-bak.1700000000'],
  };
}
