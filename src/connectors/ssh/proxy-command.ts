import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Duplex } from 'node:stream';
import { watchLink, type Link } from './link.ts';

/** How a ProxyCommand ended. */
export interface ProxyExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A link through a ProxyCommand: its stdin/stdout are the byte stream to sshd. */
export interface ProxyLink extends Link {
  command: string;
  /** Resolves when the command has exited. */
  exited: Promise<ProxyExit>;
  /** The last lines of its stderr. */
  stderrTail(): string[];
}

const TAIL_LINES = 10;

/** The child's stdout and stdin as one Duplex (what ssh2 takes as `sock`); destroying it stops the command. */
class ProxyStream extends Duplex {
  readonly #child: ChildProcessWithoutNullStreams;
  constructor(child: ChildProcessWithoutNullStreams) {
    super();
    this.#child = child;
    child.stdout.on('data', (d: Buffer) => {
      if (!this.push(d)) child.stdout.pause();
    });
    child.stdout.on('end', () => this.push(null));
    child.stdout.on('error', (err) => this.destroy(err));
    // EPIPE when the command is gone: its exit is what is reported
    child.stdin.on('error', () => undefined);
  }
  override _read(): void {
    this.#child.stdout.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#child.stdin.destroyed) return cb(new Error('the ProxyCommand is gone'));
    this.#child.stdin.write(chunk, () => cb());
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.#child.stdin.end();
    cb();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#child.stdin.destroy();
    this.#child.stdout.destroy();
    // OpenSSH sends SIGHUP to its ProxyCommand when done
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGHUP');
    cb(err);
  }
}

/**
 * Start a ProxyCommand (tokens already expanded) as OpenSSH does, with
 * `exec` so the command replaces the shell: `/bin/sh -c 'exec <command>'`
 * (OpenSSH uses $SHELL; cairn always /bin/sh). Each stderr line goes to
 * `onStderr` and the last ones are kept for errors.
 */
export function startProxyCommand(command: string, onStderr: (line: string) => void): ProxyLink {
  const child = spawn('/bin/sh', ['-c', `exec ${command}`], { stdio: ['pipe', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let partial = '';
  const line = (l: string): void => {
    tail.push(l);
    if (tail.length > TAIL_LINES) tail.shift();
    onStderr(l);
  };
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d: string) => {
    const parts = (partial + d).split(/\r?\n/);
    partial = parts.pop() ?? '';
    for (const p of parts) if (p.trim() !== '') line(p);
  });
  const exited = new Promise<ProxyExit>((resolve) => {
    child.on('error', (err) => {
      line(`cannot start /bin/sh: ${err.message}`);
      resolve({ code: null, signal: null });
    });
    child.on('exit', (code, signal) => {
      child.stderr.once('end', () => {
        if (partial.trim() !== '') line(partial);
        partial = '';
      });
      resolve({ code, signal });
    });
  });
  const sock = new ProxyStream(child);
  child.on('error', (err) => sock.destroy(err));
  // a command that does not stop when its stdin closes is stopped 2 s later
  sock.on('finish', () => setTimeout(() => sock.destroy(), 2000).unref());
  return { ...watchLink(sock), command, exited, stderrTail: () => [...tail, ...(partial.trim() ? [partial] : [])] };
}

/** "exited with code 1" / "was killed by SIGTERM". */
export function describeExit(e: ProxyExit): string {
  if (e.signal) return `was killed by ${e.signal}`;
  if (e.code === null) return 'could not be started';
  return `exited with code ${e.code}${e.code === 127 ? ' (command not found)' : ''}`;
}

/** If the command has ended (within `waitMs`), how: for the error of a handshake that failed. */
export async function proxyEnded(link: ProxyLink, waitMs: number): Promise<ProxyExit | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), waitMs)));
  try {
    return await Promise.race([link.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
