import { posix } from 'node:path';
/**
 * Test helpers for the system operations (packages, users, sysctl, modules,
 * services, artifacts): fake facts and probe output, and an Alpine minirootfs
 * chroot that runs probes and commands for real, the way the engine does
 * (probes through `batch`, changes through `strict`).
 */
import { stdinBytes } from '../../helpers/stdin.ts';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, copyFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batch, strict } from '../../../src/engine/batch.ts';
import type { CommandResult } from '../../../src/core/result.ts';
import { SECTION_PREFIX } from '../../../src/facts/gather.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import type { Command, OpContext, Operation, Plan } from '../../../src/operations/operation.ts';
import { ShellCommand } from '../../../src/shell/sh.ts';

export const alpine: Facts = stubFacts[0]!;
export const debian: Facts = stubFacts[1]!;
export const facts = { alpine, debian } as const;
export type FactsName = keyof typeof facts;

export function withFacts(base: Facts, over: Partial<Facts>): Facts {
  return { ...base, ...over };
}

export function ctx(f: Facts, bake = false): OpContext {
  return { host: 'h1', facts: f, bake };
}

/** Probe stdout made of sections, as the probes print them. */
export function sections(s: Record<string, string>): string {
  return Object.entries(s)
    .map(([k, v]) => `\n${SECTION_PREFIX}${k}\n${v}\n`)
    .join('');
}

export function result(stdout: string, exitCode = 0): CommandResult {
  return { command: 'probe', exitCode, stdout, stderr: '', durationMs: 0 };
}

/** What a plan amounts to, in comparable form: commands by their display text. */
export function summary(plan: Plan): { kind: string; text: string; commands?: string[] } {
  if (plan.kind === 'noop') return { kind: 'noop', text: plan.reason };
  if (plan.kind === 'fail' || plan.kind === 'warn') return { kind: plan.kind, text: plan.message };
  return { kind: 'change', text: plan.reason, commands: plan.commands.map(display) };
}

export function display(c: Command): string {
  return c instanceof ShellCommand ? c.display : `upload ${c.path}${c.mode !== undefined ? ` mode ${c.mode.toString(8)}` : ''}: ${c.description}`;
}

/** The display text of atomicWrite(file, content, { mode }) (atomic install of inline base64). */
export function expectWrite(file: string, content: string, mode = '0644'): string {
  const b64 = Buffer.from(content).toString('base64');
  return expectInstall(`printf %s ${b64} | base64 -d > ${file}.cairn-tmp && chmod ${mode} ${file}.cairn-tmp`, file);
}

/** The display text of atomicInstall(produce, tmp, file, attrs) (produce and attrs joined with &&). */
export function expectInstall(steps: string, file: string): string {
  return (
    `( umask 077 && ${steps} && { [ ! -f ${file} ] || cp -p ${file} ${file}.cairn-bak.$(date +%s); } && ` +
    `{ sync ${file}.cairn-tmp 2>/dev/null || sync; } && mv -f ${file}.cairn-tmp ${file} && { sync ${posix.dirname(file)} 2>/dev/null || sync; } ) || { rm -f ${file}.cairn-tmp; exit 1; }`
  );
}

/** One row of a data-driven operation test. */
export interface PlanCase<P> {
  title: string;
  params: P;
  facts?: Facts;
  bake?: boolean;
  /** Probe output sections (omitted: no probe). */
  probe?: Record<string, string>;
  expect: { kind: 'noop' | 'change' | 'fail' | 'warn'; commands?: string[]; text?: RegExp; warnings?: RegExp };
}

/** Plan `op` for a case. */
export function planCase(op: Operation, c: PlanCase<unknown>): Plan {
  const f = c.facts ?? alpine;
  return op.plan(c.probe ? result(sections(c.probe)) : undefined, ctx(f, c.bake ?? false));
}

const F = '/work/shared/testbed/alpine';
const TARBALL = `${F}/minirootfs/alpine-minirootfs-3.19.4-x86_64.tar.gz`;

/** Why the chroot tests cannot run here, or undefined when they can. */
export function chrootUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (!existsSync(TARBALL)) return `no ${TARBALL}`;
  if (spawnSync('unshare', ['--help']).status !== 0) return 'no unshare';
  return undefined;
}

/**
 * An extracted Alpine 3.19 minirootfs with the local signed apk repo. Every
 * command runs in its own mount namespace (unshare -m) that bind-mounts the repo
 * read-only at /media/apks: nothing stays mounted, even if a test dies.
 */
export class AlpineChroot {
  readonly root: string;
  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'cairn-sysops-'));
    const r = spawnSync('tar', ['-xzf', TARBALL, '-C', this.root]);
    if (r.status !== 0) throw new Error(`tar: ${r.stderr}`);
    copyFileSync(`${F}/keys/alpine-tb-local.rsa.pub`, join(this.root, 'etc/apk/keys/alpine-tb-local.rsa.pub'));
    mkdirSync(join(this.root, 'media/apks'), { recursive: true });
    writeFileSync(join(this.root, 'etc/apk/repositories'), '/media/apks\n');
    // probes and changes read stdin from /dev/null (the engine's batch): a device node, no mount
    const dev = spawnSync('mknod', ['-m', '666', join(this.root, 'dev/null'), 'c', '1', '3']);
    if (dev.status !== 0) throw new Error(`mknod: ${dev.stderr}`);
  }

  /** Run shell text as /bin/sh -c inside the chroot (busybox ash). */
  sh(text: string): { stdout: string; stderr: string; exitCode: number } {
    const script = 'mount --bind "$1" "$2/media/apks" && mount -o remount,ro,bind "$2/media/apks" && exec chroot "$2" /bin/sh -c "$3"';
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', `${F}/repo/v3.19`, this.root, text], { encoding: 'utf8' });
    return { stdout: r.stdout, stderr: r.stderr, exitCode: r.status ?? 128 };
  }

  /** Probe (through the engine's batch), plan, and apply the commands (through strict). */
  apply(op: Operation, f: Facts = withFacts(alpine, { chroot: true }), bake = true): { plan: Plan; errors: string[] } {
    const c = ctx(f, bake);
    const probe = op.probe(c);
    let res: CommandResult | undefined;
    if (probe) {
      const b = batch([probe]);
      const out = this.sh(b.command.text);
      const part = b.parse(out.stdout)[0];
      if (!part) throw new Error(`probe output missing: ${out.stderr}`);
      res = { command: probe.display, durationMs: 0, ...part };
    }
    const plan = op.plan(res, c);
    const errors: string[] = [];
    if (plan.kind === 'change') {
      for (const cmd of plan.commands) {
        if (cmd instanceof ShellCommand) {
          const r = this.sh(strict([cmd]).text);
          if (r.exitCode !== 0) {
            errors.push(`${cmd.display}\n=> exit ${r.exitCode}: ${r.stderr}${r.stdout}`);
            break;
          }
        } else {
          const path = join(this.root, cmd.path);
          writeFileSync(path, stdinBytes([cmd.content]));
          if (cmd.mode !== undefined) chmodSync(path, cmd.mode);
        }
      }
    }
    return { plan, errors };
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
