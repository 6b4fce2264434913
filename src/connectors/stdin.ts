import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/** Bytes of a controller file sent as they are read (a big `src`: never held whole in memory). */
export interface FilePiece {
  readonly file: string;
  readonly size: number;
  /**
   * The file's identity when it was planned (see fileStamp): it is checked when the
   * file is opened and again before its last MiB is sent; a file that changed in
   * between destroys the stream, so its end never reaches the host.
   */
  readonly stamp?: string;
}

/** Device, inode, size, mtime and ctime: what changes when a file's bytes do. */
export function fileStamp(st: { dev: number; ino: number; size: number; mtimeMs: number; ctimeMs: number }): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
}

export type Piece = Buffer | FilePiece;

/**
 * What a command reads on stdin: text, bytes, or pieces (a tar stream of uploads: its
 * headers and small contents as Buffers, shared Buffers of a file's content, or files
 * on the controller read as they are sent; nothing is copied into one Buffer per host).
 */
export type Stdin = string | Buffer | readonly Piece[];

/** Something that admits a limited number of stdin streams at once (a Semaphore). */
export interface StdinGate {
  acquire(): Promise<() => void>;
}

export interface StdinOptions {
  /** After each piece the stream took (and at the end): bytes so far, of all. */
  onProgress?: (sent: number, total: number) => void;
  /** Streams above a few pieces wait for a slot (bounds the bytes in flight over all hosts). */
  gate?: StdinGate;
}

/** The stdin options of a connector's run options. */
export function stdinOptionsOf(o: { onStdinProgress?: (sent: number, total: number) => void; stdinGate?: StdinGate }): StdinOptions {
  return { ...(o.onStdinProgress ? { onProgress: o.onStdinProgress } : {}), ...(o.stdinGate ? { gate: o.stdinGate } : {}) };
}

/** The input as pieces (a password line goes before them without copying them). */
export function pieces(input: Stdin | undefined): readonly Piece[] {
  if (input === undefined) return [];
  if (typeof input === 'string') return [Buffer.from(input)];
  return Buffer.isBuffer(input) ? [input] : input;
}

const isFile = (p: Piece): p is FilePiece => !Buffer.isBuffer(p);
/** Bytes of a piece. */
export const pieceSize = (p: Piece): number => (isFile(p) ? p.size : p.length);

/** Pieces are written at most this big (subarrays of Buffers, reads of files), one at a time. */
const STEP = 1024 * 1024;
/** At most this much waits in a stream beyond what the connection took. */
const QUEUED = 4 * STEP;
/** Inputs up to this size are written at once, without a gate. */
const SMALL = 4 * STEP;

/**
 * Write the input to `stream` and end it. Small inputs at once; larger ones 1 MiB at a
 * time after a slot of `gate` was given, files read from disk as they go, waiting for
 * the stream's 'drain' whenever QUEUED bytes wait in it: at most 4 MiB (and the MiB
 * being written) per stream beyond what the connection has in flight. Stops when the stream
 * closes or fails first (the command exited without reading everything); a file that
 * cannot be read or changed size destroys the stream (the command sees its input cut).
 */
export function endWith(stream: Writable, input: Stdin | undefined, o: StdinOptions = {}): void {
  const list = pieces(input);
  const total = list.reduce((n, p) => n + pieceSize(p), 0);
  if (total <= SMALL && !list.some(isFile)) {
    for (const b of list as Buffer[]) stream.write(b);
    stream.end();
    o.onProgress?.(total, total);
    return;
  }
  void pump(stream, list, total, o);
}

async function pump(stream: Writable, list: readonly Piece[], total: number, o: StdinOptions): Promise<void> {
  let gone = false;
  const stop = (): void => {
    gone = true;
  };
  stream.once('close', stop);
  stream.once('error', stop);
  let sent = 0;
  const write = (b: Buffer): Promise<void> =>
    new Promise<void>((resolve) => {
      if (gone) return resolve();
      const settle = (): void => {
        stream.off('drain', settle);
        stream.off('close', settle);
        resolve();
      };
      // keep up to QUEUED bytes waiting in the stream (the connection encrypts while we read)
      if (stream.write(b) || stream.writableLength < QUEUED) return resolve();
      stream.once('drain', settle);
      stream.once('close', settle);
    }).then(() => {
      if (gone) return;
      sent += b.length;
      o.onProgress?.(sent, total);
    });
  const release = o.gate ? await o.gate.acquire() : undefined;
  try {
    for (const p of list) {
      if (gone) break;
      if (!isFile(p)) {
        for (let at = 0; at < p.length && !gone; at += STEP) await write(p.subarray(at, at + STEP));
        continue;
      }
      const fh = await open(p.file, 'r');
      const same = async (): Promise<void> => {
        if (p.stamp !== undefined && fileStamp(await fh.stat()) !== p.stamp) throw new Error(`${p.file} changed after it was planned: not sent (run again)`);
      };
      try {
        await same();
        for (let at = 0; at < p.size && !gone; at += STEP) {
          const n = Math.min(STEP, p.size - at);
          if (at + n >= p.size) await same();
          const buf = Buffer.allocUnsafe(n);
          const { bytesRead } = await fh.read(buf, 0, n, at);
          if (bytesRead !== n) throw new Error(`${p.file} is shorter than the ${p.size} bytes it had when planned`);
          await write(buf);
        }
      } finally {
        await fh.close();
      }
    }
    if (!gone) stream.end();
  } catch (err) {
    stream.destroy(err as Error);
  } finally {
    release?.();
    stream.off('close', stop);
    stream.off('error', stop);
  }
}
