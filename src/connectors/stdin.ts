import type { Writable } from 'node:stream';

/**
 * What a command reads on stdin: text, bytes, or bytes in pieces (a tar stream of
 * uploads whose file contents are shared Buffers: sent piece by piece, never copied
 * into one Buffer per host).
 */
export type Stdin = string | Buffer | readonly Buffer[];

/** The input as pieces (a password line goes before them without copying them). */
export function pieces(input: Stdin | undefined): readonly Buffer[] {
  if (input === undefined) return [];
  if (typeof input === 'string') return [Buffer.from(input)];
  return Buffer.isBuffer(input) ? [input] : input;
}

/** Pieces are written at most this big (subarrays, not copies), so progress moves in steps this size. */
const STEP = 1024 * 1024;

/**
 * Write the input to `stream` and end it, piece by piece as the stream drains (its
 * buffer holds at most one piece beyond its high-water mark); stops writing when the
 * stream closes or fails first (the command exited without reading everything).
 * `onProgress(sent, total)`: after each piece the stream took (and once at the end).
 */
export function endWith(stream: Writable, input: Stdin | undefined, onProgress?: (sent: number, total: number) => void): void {
  const list = pieces(input).flatMap((b) => (b.length <= STEP ? [b] : Array.from({ length: Math.ceil(b.length / STEP) }, (_, k) => b.subarray(k * STEP, (k + 1) * STEP))));
  const total = list.reduce((n, b) => n + b.length, 0);
  let sent = 0;
  let i = 0;
  let gone = false;
  const stop = (): void => {
    gone = true;
  };
  stream.once('close', stop);
  stream.once('error', stop);
  const took = (n: number) => (err?: Error | null): void => {
    if (err || gone) return;
    sent += n;
    onProgress?.(sent, total);
  };
  const next = (): void => {
    while (!gone && i < list.length) {
      const b = list[i++]!;
      if (!stream.write(b, onProgress ? took(b.length) : undefined)) {
        stream.once('drain', next);
        return;
      }
    }
    if (!gone) stream.end();
    stream.off('close', stop);
    stream.off('error', stop);
  };
  next();
}
