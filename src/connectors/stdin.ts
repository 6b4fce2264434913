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

/**
 * Write the input to `stream` and end it, piece by piece as the stream drains (its
 * buffer holds at most one piece beyond its high-water mark); stops writing when the
 * stream closes or fails first (the command exited without reading everything).
 */
export function endWith(stream: Writable, input: Stdin | undefined): void {
  const list = pieces(input);
  let i = 0;
  let gone = false;
  const stop = (): void => {
    gone = true;
  };
  stream.once('close', stop);
  stream.once('error', stop);
  const next = (): void => {
    while (!gone && i < list.length) {
      if (!stream.write(list[i++]!)) {
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
