/**
 * Runs operations for real on local shells, the way the engine does (probe inside
 * `batch()`, changes inside `strict()`), for the file-family operation tests:
 *
 *   dash      /bin/sh -c (Debian's dash, coreutils)
 *   busybox   busybox sh -c with ONLY busybox applets on PATH (busybox stat,
 *             sha256sum, base64, tar, unzip, ... instead of coreutils)
 *   alpine-3.19-x86_64, alpine-3.7-aarch64
 *             chroot into extracted Alpine minirootfs tarballs (musl, Alpine's busybox;
 *             3.7 = busybox 1.27 under qemu-user). Only when running as root and the
 *             tarballs exist ($CAIRN_ALPINE_MINIROOTFS, default
 *             /work/shared/testbed/alpine/minirootfs); CAIRN_TEST_CHROOT=0 skips them.
 */
import { stdinBytes } from '../../helpers/stdin.ts';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { batch, strict } from '../../../src/engine/batch.ts';
import type { CommandResult } from '../../../src/core/result.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { SECTION_PREFIX } from '../../../src/facts/gather.ts';
import { ShellCommand } from '../../../src/shell/sh.ts';
import type { OpContext, Operation, Plan } from '../../../src/operations/operation.ts';

export interface Target {
  readonly name: string;
  readonly facts: Facts;
  /** Run a script like a connector: `<shell> -c <script>`. */
  sh(script: string): { exitCode: number; stdout: string; stderr: string };
  /** Write bytes to a path as seen on the target. */
  upload(path: string, content: Buffer, mode?: number): void;
  /** The controller-side path of a target path (differs in a chroot). */
  outside(path: string): string;
  /** A fresh empty directory on the target (target-side path). */
  tempDir(): string;
}

const cleanups: Array<() => void> = [];
process.on('exit', () => {
  for (const c of cleanups) {
    try {
      c();
    } catch {
      // best effort
    }
  }
});

function spawn(file: string, args: string[], env?: NodeJS.ProcessEnv): { exitCode: number; stdout: string; stderr: string } {
  const r = spawnSync(file, args, { encoding: 'utf8', maxBuffer: 256 << 20, ...(env ? { env } : {}) });
  if (r.error) throw r.error;
  return { exitCode: r.status ?? 128 + 9, stdout: r.stdout, stderr: r.stderr };
}

function localTarget(name: string, argv: string[], env?: NodeJS.ProcessEnv): Target {
  const base = mkdtempSync(join(tmpdir(), `cairn-op-${name}-`));
  cleanups.push(() => rmSync(base, { recursive: true, force: true }));
  let n = 0;
  return {
    name,
    facts: stubFacts[1] as Facts,
    sh: (script) => spawn(argv[0] as string, [...argv.slice(1), '-c', script], env),
    upload(path, content, mode) {
      writeFileSync(path, content);
      if (mode !== undefined) chmodSync(path, mode);
    },
    outside: (p) => p,
    tempDir() {
      const d = join(base, `t${n++}`);
      mkdirSync(d);
      return d;
    },
  };
}

let busyboxDir: string | undefined;
const busyboxBinary = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p));
function busyboxPath(): string | undefined {
  const bb = busyboxBinary;
  if (!bb) return undefined;
  if (busyboxDir) return busyboxDir;
  const dir = mkdtempSync(join(tmpdir(), 'cairn-busybox-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  for (const applet of execFileSync(bb, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean)) {
    symlinkSync(bb, join(dir, applet));
  }
  busyboxDir = dir;
  return dir;
}

function chrootTarget(name: string, tarball: string, foreign?: 'aarch64'): Target {
  const root = mkdtempSync(join(tmpdir(), `cairn-root-${name}-`));
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  execFileSync('tar', ['-xzf', tarball, '-C', root]);
  execFileSync('mknod', ['-m', '666', join(root, 'dev/null'), 'c', '1', '3']);
  if (foreign) {
    // binfmt without the F flag looks the interpreter up inside the chroot
    const entry = readFileSync(`/proc/sys/fs/binfmt_misc/qemu-${foreign}`, 'utf8');
    const interpreter = /^interpreter (.+)$/m.exec(entry)?.[1];
    if (interpreter) {
      mkdirSync(join(root, dirname(interpreter)), { recursive: true });
      copyFileSync(`/usr/bin/qemu-${foreign}-static`, join(root, interpreter));
    }
  }
  let n = 0;
  return {
    name,
    facts: stubFacts[0] as Facts,
    sh: (script) => spawn('chroot', [root, '/bin/sh', '-c', script]),
    upload(path, content, mode) {
      writeFileSync(join(root, path), content);
      if (mode !== undefined) chmodSync(join(root, path), mode);
    },
    outside: (p) => join(root, p),
    tempDir() {
      const d = `/tmp/t${n++}`;
      mkdirSync(join(root, d));
      return d;
    },
  };
}

function chrootTargets(): Target[] {
  if (process.env.CAIRN_TEST_CHROOT === '0' || process.getuid?.() !== 0) return [];
  const dir = process.env.CAIRN_ALPINE_MINIROOTFS ?? '/work/shared/testbed/alpine/minirootfs';
  const out: Target[] = [];
  const x86 = join(dir, 'alpine-minirootfs-3.19.4-x86_64.tar.gz');
  if (existsSync(x86) && process.arch === 'x64') out.push(chrootTarget('alpine-3.19-x86_64', x86));
  const arm = join(dir, 'alpine-minirootfs-3.7.3-aarch64.tar.gz');
  if (existsSync(arm) && process.arch === 'x64' && existsSync('/proc/sys/fs/binfmt_misc/qemu-aarch64') && existsSync('/usr/bin/qemu-aarch64-static')) {
    out.push(chrootTarget('alpine-3.7-aarch64', arm, 'aarch64'));
  }
  return out;
}

let cached: Target[] | undefined;
/** Every target available on this machine (dash always). */
export function targets(): Target[] {
  if (cached) return cached;
  cached = [localTarget('dash', ['/bin/sh'])];
  const bb = busyboxPath();
  // busybox applets ONLY on PATH: no coreutils, bash, curl (like a minimal Alpine)
  if (bb && busyboxBinary) cached.push(localTarget('busybox', [busyboxBinary, 'sh'], { ...process.env, PATH: bb }));
  cached.push(...chrootTargets());
  return cached;
}

/** A controller-side temp dir removed when the test process exits. */
export function scratch(prefix = 'cairn-scratch-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function ctxFor(target: Target, bake = false): OpContext {
  return { host: target.name, facts: target.facts, bake };
}

/** The probe through the engine's batch wrapper, as a CommandResult. */
export function runProbe(target: Target, op: Operation, ctx = ctxFor(target)): CommandResult | undefined {
  const cmd = op.probe(ctx);
  if (!cmd) return undefined;
  const b = batch([cmd]);
  const res = target.sh(b.command.text);
  const part = b.parse(res.stdout)[0];
  if (!part) throw new Error(`probe of ${op.id} on ${target.name} gave no output (exit ${res.exitCode}): ${res.stderr}`);
  return { command: cmd.display, durationMs: 0, ...part };
}

export interface Applied {
  readonly plan: Plan;
  /** Exit code of the change (0 when nothing ran). */
  readonly exitCode: number;
  readonly stderr: string;
}

/** Probe, plan and (for a change) run the commands, like the engine's flush. */
export function apply(target: Target, op: Operation, ctx = ctxFor(target)): Applied {
  return runPlan(target, op.plan(runProbe(target, op, ctx), ctx));
}

/** Run a plan's commands (nothing for a noop), like the engine's flush. */
export function runPlan(target: Target, plan: Plan): Applied {
  if (plan.kind !== 'change') return { plan, exitCode: 0, stderr: '' };
  if (plan.commands.every((c) => c instanceof ShellCommand)) {
    const b = batch([strict(plan.commands as ShellCommand[])], true);
    const res = target.sh(b.command.text);
    const part = b.parse(res.stdout)[0];
    return { plan, exitCode: part?.exitCode ?? res.exitCode, stderr: part?.stderr ?? res.stderr };
  }
  for (const c of plan.commands) {
    if (c instanceof ShellCommand) {
      const res = target.sh(strict([c]).text);
      if (res.exitCode !== 0) return { plan, exitCode: res.exitCode, stderr: res.stderr };
    } else {
      target.upload(c.path, stdinBytes([c.content]), c.mode);
    }
  }
  return { plan, exitCode: 0, stderr: '' };
}

/** Apply once (expect a successful change), then again (expect noop). Returns the first plan. */
export function applyTwice(t: ExecutionContext, target: Target, op: Operation): Plan {
  const first = apply(target, op);
  t.is(first.plan.kind, 'change', `${target.name}: first run: ${JSON.stringify(first.plan)}`);
  t.is(first.exitCode, 0, `${target.name}: change failed: ${first.stderr}`);
  const second = apply(target, op);
  t.is(second.plan.kind, 'noop', `${target.name}: second run: ${JSON.stringify(second.plan)}`);
  return first.plan;
}

/** A CommandResult as a probe would return it (for data tests). */
export function probeResult(stdout: string, exitCode = 0, stderr = ''): CommandResult {
  return { command: 'probe', exitCode, stdout, stderr, durationMs: 0 };
}

/** Hostile names: spaces, quotes, $(), backticks, globs, a leading dash, unicode. */
export const HOSTILE_NAMES = [
  'plain.txt',
  'with space.txt',
  "it's \"quoted\".conf",
  '$(touch pwned) `id` ;rm -rf x;.txt',
  '-dash *glob? [x].txt',
  'ünïcødé ✓.txt',
];

/** Content that must survive: quotes, $(), backslashes, a NUL-free binary tail, no final newline. */
export const HOSTILE_CONTENT = `line one\nit's "quoted" $(echo no) \`echo no\` \\n \\\\ $HOME\n\n\ttab\r\nno final newline`;

/** Fake output of `pathStateCommand` (facts/path-state.ts), for data tests. */
export function fakePathProbe(s: {
  type: 'absent' | 'file' | 'dir' | 'link' | 'other';
  resolved?: string;
  /** `stat -L -c '%a %u %g %U %G %s'` */
  stat?: string;
  target?: string;
  sha256?: string;
  content?: string | Buffer;
}): CommandResult {
  const m = SECTION_PREFIX;
  const parts = [`\n${m}state\ntype=${s.type}`];
  if (s.resolved) parts.push(`resolved=${s.resolved}`);
  if (s.stat) parts.push(`stat=${s.stat}`);
  if (s.target !== undefined) parts.push(`\n${m}target\n${s.target}`);
  if (s.sha256) parts.push(`\n${m}sha256\n${s.sha256}`);
  if (s.content !== undefined) parts.push(`\n${m}content\n${Buffer.from(s.content).toString('base64').replace(/.{76}/g, '$&\n')}`);
  return probeResult(`${parts.join('\n')}\n`);
}

export function sha256(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}
