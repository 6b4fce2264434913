/**
 * Running programs: always an argv array (child_process.spawn, no shell).
 */
import { spawn } from 'node:child_process';

export interface RunOptions {
  /** Written to stdin, then stdin is closed (default: stdin is /dev/null). */
  input?: string | Buffer;
  timeoutMs?: number;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFail?: boolean;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Keep stdout as a Buffer (e.g. binary output). */
  binary?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stdoutBuf: Buffer;
  stderr: string;
}

export const verbose = { on: process.env.CAIRN_BED_VERBOSE === '1' };

/** Printable form of an argv, for logs and errors only (never executed). */
export function showArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
  ) {
    const tail = (result.stderr.trim() || result.stdout.trim()).split('\n').slice(-15).join('\n');
    super(`command failed (exit ${result.code}): ${showArgv(argv)}${tail ? `\n${tail}` : ''}`);
  }
}

export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('run: empty argv');
  if (verbose.on) process.stderr.write(`+ ${showArgv(argv)}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d: Buffer) => out.push(d));
    child.stderr!.on('data', (d: Buffer) => err.push(d));
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, opts.timeoutMs);
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(new Error(`cannot run ${showArgv(argv)}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const stdoutBuf = Buffer.concat(out);
      const result: RunResult = {
        code: code ?? 128,
        stdout: opts.binary ? '' : stdoutBuf.toString('utf8'),
        stdoutBuf,
        stderr: Buffer.concat(err).toString('utf8') + (timedOut ? `\n[timeout after ${opts.timeoutMs} ms]` : signal ? `\n[killed by ${signal}]` : ''),
      };
      if (result.code !== 0 && !opts.allowFail) reject(new CommandError(argv, result));
      else resolve(result);
    });
  });
}

/** Run and stream output to our stderr (long jobs: mmdebstrap, apt), throwing on failure. */
export function runLoud(argv: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  const [cmd, ...args] = argv;
  if (!cmd) throw new Error('runLoud: empty argv');
  process.stderr.write(`+ ${showArgv(argv)}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], cwd: opts.cwd, env: opts.env ?? process.env });
    child.on('error', (e) => reject(new Error(`cannot run ${showArgv(argv)}: ${e.message}`)));
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`command failed (exit ${code}): ${showArgv(argv)}`)),
    );
  });
}

/** Run `jobs` with at most `limit` at a time; rejects with the first error after all started jobs settle. */
export async function pool<T>(items: readonly T[], limit: number, job: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        await job(items[i]!, i);
      } catch (e) {
        errors.push(e);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AggregateError(errors, errors.map((e) => (e instanceof Error ? e.message : String(e))).join('\n---\n'));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
