/**
 * A minimal ustar writer for sending files to a host in one stream: regular files
 * with short names (the engine names them 0, 1, 2... inside a stage directory). The
 * result is a list of pieces: each file's content is the caller's Buffer itself,
 * never copied (one 30 MiB binary sent to 30 hosts stays one Buffer), or the
 * controller file it is read from as it is sent.
 */
import { pieceSize, type FilePiece, type Piece } from '../connectors/stdin.ts';

export interface TarFile {
  /** At most 100 bytes, no leading `/`. */
  readonly name: string;
  /** Bytes, or a controller file sent as it is read (its size fixed now). */
  readonly content: Buffer | FilePiece;
  /** Permission bits (0o600 when unset). */
  readonly mode?: number;
}

const BLOCK = 512;
/** The largest size a 12-byte octal field holds (8 GiB - 1). */
const MAX_SIZE = 0o77777777777;

function octal(buf: Buffer, at: number, len: number, value: number): void {
  buf.write(`${value.toString(8).padStart(len - 1, '0')}\0`, at, len, 'latin1');
}

function header(f: TarFile, mtime: number): Buffer {
  const name = Buffer.from(f.name, 'utf8');
  if (name.length === 0 || name.length > 100 || f.name.startsWith('/')) throw new Error(`tar: the name '${f.name}' must be 1-100 bytes and relative`);
  const size = pieceSize(f.content);
  if (size > MAX_SIZE) throw new Error(`tar: ${f.name} is ${size} bytes, more than a ustar entry holds (8 GiB)`);
  const h = Buffer.alloc(BLOCK);
  name.copy(h, 0);
  octal(h, 100, 8, (f.mode ?? 0o600) & 0o7777);
  octal(h, 108, 8, 0);
  octal(h, 116, 8, 0);
  octal(h, 124, 12, size);
  octal(h, 136, 12, mtime);
  h.fill(0x20, 148, 156);
  h.write('0', 156, 'latin1');
  h.write('ustar\0' + '00', 257, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

/** The tar stream of `files`, as pieces to send in order (headers, contents, padding, the end blocks). */
export function tarPieces(files: readonly TarFile[], mtime = Math.floor(Date.now() / 1000)): Piece[] {
  const out: Piece[] = [];
  for (const f of files) {
    out.push(header(f, mtime));
    const size = pieceSize(f.content);
    if (size > 0) out.push(f.content);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad > 0) out.push(Buffer.alloc(pad));
  }
  out.push(Buffer.alloc(2 * BLOCK));
  return out;
}

/** Bytes of a tar stream of files of these sizes. */
export function tarSize(sizes: readonly number[]): number {
  return sizes.reduce((n, s) => n + BLOCK + Math.ceil(s / BLOCK) * BLOCK, 2 * BLOCK);
}
