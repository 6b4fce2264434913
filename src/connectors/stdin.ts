import { open } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { ReadBuffers } from './read-buffers.ts';

/** Bytes of a controller file sent as they are read (a big `src`: never held whole in memory). */
export interface FilePiece {
  readonly file: string;
  readonly size: number;
  /**
   * The file's identity when it was planned (see fileStamp): it is checked when the
   * file is opened and again before its last 512 KiB are sent; a file that changed in
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
const STEP = 512 * 1024;
/** At most this much waits in a stream beyond what the connection took. */
const QUEUED = 2 * STEP;
/** Read buffers of a stream sending a file: the step read ahead, QUEUED waiting, the one being taken. */
const READ_BUFFERS = QUEUED / STEP + 2;
/** Inputs up to this size are written at once, without a gate. */
const SMALL = 4 * 1024 * 1024;

/**
 * Write the input to `stream` and end it. Small inputs at once; larger ones 512 KiB at a
 * time after a slot of `gate` was given, files read from disk as they go into a few
 * buffers used again (ReadBuffers), waiting for the stream's 'drain' whenever QUEUED bytes
 * wait in it: at most 1 MiB (and the step being written) per stream beyond what the
 * connection has in flight. Stops when the stream
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
  const buffers = new ReadBuffers(STEP, READ_BUFFERS);
  const stop = (): void => {
    gone = true;
    buffers.close();
  };
  stream.once('close', stop);
  stream.once('error', stop);
  let sent = 0;
  const write = (b: Buffer, taken?: () => void): Promise<void> =>
    new Promise<void>((resolve) => {
      if (gone) return resolve();
      const settle = (): void => {
        stream.off('drain', settle);
        stream.off('close', settle);
        resolve();
      };
      // keep up to QUEUED bytes waiting in the stream (the connection encrypts while we read)
      if (stream.write(b, taken) || stream.writableLength < QUEUED) return resolve();
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
      // the next step is read while this one is written (reads go through libuv's pool)
      const read = async (at: number): Promise<{ whole: Buffer; buf: Buffer } | undefined> => {
        const n = Math.min(STEP, p.size - at);
        if (at + n >= p.size) await same();
        const whole = await buffers.take();
        if (!whole) return undefined;
        const buf = whole.subarray(0, n);
        const { bytesRead } = await fh.read(buf, 0, n, at);
        if (bytesRead !== n) throw new Error(`${p.file} is shorter than the ${p.size} bytes it had when planned`);
        return { whole, buf };
      };
      // a read that fails while the step before it is still being written is awaited later, not unhandled
      const readAhead = (at: number): Promise<{ whole: Buffer; buf: Buffer } | undefined> => {
        const r = read(at);
        r.catch(() => undefined);
        return r;
      };
      let ahead: Promise<{ whole: Buffer; buf: Buffer } | undefined> = Promise.resolve(undefined);
      try {
        await same();
        ahead = readAhead(0);
        for (let at = 0; at < p.size && !gone; at += STEP) {
          const got = await ahead;
          if (!got) break;
          ahead = at + STEP < p.size ? readAhead(at + STEP) : Promise.resolve(undefined);
          await write(got.buf, () => buffers.give(got.whole));
        }
      } finally {
        await ahead.catch(() => undefined); // a read still going when the stream went
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
