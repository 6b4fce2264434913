import type { ShellCommand } from '../shell/sh.ts';
import { endWith, type Stdin, type StdinOptions } from './stdin.ts';
import type { CommandResult } from '../core/result.ts';
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';

/** What a finished process gave back, before decoding. */
export interface RawOutput {
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
  durationMs: number;
  timedOut: boolean;
}

export const TIMEOUT_EXIT_CODE = 124;

/** 128 + the signal's number (as a shell reports it); 'SIGTERM' or 'TERM'. */
export function signalExitCode(signal: string | null | undefined): number {
  if (!signal) return 255;
  const name = (signal.startsWith('SIG') ? signal : `SIG${signal}`) as keyof typeof osConstants.signals;
  const n = osConstants.signals[name];
  return typeof n === 'number' ? 128 + n : 255;
}

export function timeoutNote(ms: number): string {
  return `cairn: command timed out after ${ms} ms and was stopped (exit code ${TIMEOUT_EXIT_CODE})\n`;
}

/** Process groups of commands still running, killed if cairn exits first. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  liveGroups.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const g of liveGroups) {
        try {
          process.kill(-g, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    });
  }
}

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  stdin?: Stdin;
  stdinOptions?: StdinOptions;
  /** 0 or undefined: no limit. */
  timeoutMs?: number;
  cwd?: string;
}

/**
 * Run `file args` (no shell in between), collecting stdout and stderr. The
 * child gets its own process group so a timeout stops everything it started:
 * SIGTERM to the group, SIGKILL one second later; the exit code is then 124.
 * Never rejects for a non-zero exit; rejects only if the program cannot start.
 */
export function spawnCollect(file: string, args: readonly string[], options: SpawnOptions = {}): Promise<RawOutput> {
  const started = Date.now();
  return new Promise<RawOutput>((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let giveUpTimer: NodeJS.Timeout | undefined;
    const pid = child.pid;
    if (pid !== undefined) trackGroup(pid);

    const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      clearTimeout(giveUpTimer);
      if (pid !== undefined) liveGroups.delete(pid);
      let stderr = Buffer.concat(err);
      let exitCode = code ?? signalExitCode(signal);
      if (timedOut) {
        exitCode = TIMEOUT_EXIT_CODE;
        stderr = Buffer.concat([stderr, Buffer.from(timeoutNote(options.timeoutMs ?? 0))]);
      }
      resolve({ exitCode, stdout: Buffer.concat(out), stderr, durationMs: Date.now() - started, timedOut });
    };

    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (pid !== undefined) liveGroups.delete(pid);
      reject(e);
    });
    child.on('close', finish);
    child.on('exit', (code, signal) => {
      // a background grandchild may hold the pipes open: do not wait for it forever after a timeout
      if (timedOut) giveUpTimer = setTimeout(() => finish(code, signal), 500);
    });

    child.stdin.on('error', () => {
      /* EPIPE: the command did not read its input */
    });
    endWith(child.stdin, options.stdin, options.stdinOptions);

    if (options.timeoutMs && options.timeoutMs > 0) {
      timer = setTimeout(() => {
        timedOut = true;
        const kill = (sig: NodeJS.Signals): void => {
          try {
            if (pid !== undefined) process.kill(-pid, sig);
          } catch {
            /* gone */
          }
        };
        kill('SIGTERM');
        killTimer = setTimeout(() => {
          kill('SIGKILL');
          giveUpTimer ??= setTimeout(() => {
            child.stdout.destroy();
            child.stderr.destroy();
            finish(null, 'SIGKILL');
          }, 1000);
        }, 1000);
      }, options.timeoutMs);
    }
  });
}

/** A command's raw output as the one result shape every connector returns (text decoded as UTF-8). */
export function toCommandResult(command: ShellCommand, raw: RawOutput): CommandResult {
  return {
    command: command.display,
    exitCode: raw.exitCode,
    stdout: raw.stdout.toString('utf8'),
    stderr: raw.stderr.toString('utf8'),
    durationMs: raw.durationMs,
  };
}
