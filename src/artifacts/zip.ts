import { crc32, inflateRawSync } from 'node:zlib';

/**
 * A minimal zip reader (stored and deflate entries, zip64 sizes), enough to take
 * one binary out of a release zip on the controller without new dependencies.
 */
export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly flags: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localOffset: number;
  /** Unix mode from the external attributes (type and permission bits); 0 when not made on unix. */
  readonly mode: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX32 = 0xffffffff;

export function isZip(buf: Buffer): boolean {
  return buf.length >= 4 && buf.readUInt32LE(0) === LOCAL;
}

function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('zip: 64-bit size too large');
  return Number(v);
}

function findEocd(buf: Buffer): number {
  const min = Math.max(0, buf.length - 22 - 0xffff);
  for (let i = buf.length - 22; i >= min; i--) if (buf.readUInt32LE(i) === EOCD) return i;
  throw new Error('zip: end of central directory not found (not a zip file, or truncated)');
}

/** The entries of the central directory. */
export function listZip(buf: Buffer): ZipEntry[] {
  const eocd = findEocd(buf);
  let count = buf.readUInt16LE(eocd + 10);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if ((count === 0xffff || cdOffset === MAX32) && eocd >= 20 && buf.readUInt32LE(eocd - 20) === ZIP64_LOCATOR) {
    const rec = u64(buf, eocd - 20 + 8);
    if (buf.readUInt32LE(rec) !== ZIP64_EOCD) throw new Error('zip: bad zip64 end of central directory');
    count = u64(buf, rec + 32);
    cdOffset = u64(buf, rec + 48);
  }
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CENTRAL) throw new Error(`zip: bad central directory entry ${i}`);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let size = buf.readUInt32LE(p + 24);
    let compressedSize = buf.readUInt32LE(p + 20);
    let localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 extra field: the 64-bit values of the fields that read 0xffffffff, in this order
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const tag = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (tag === 0x0001) {
        let q = e + 4;
        if (size === MAX32) (size = u64(buf, q)), (q += 8);
        if (compressedSize === MAX32) (compressedSize = u64(buf, q)), (q += 8);
        if (localOffset === MAX32) localOffset = u64(buf, q);
      }
      e += 4 + len;
    }
    const mode = buf.readUInt16LE(p + 4) >> 8 === 3 ? buf.readUInt32LE(p + 38) >>> 16 : 0;
    entries.push({ name, method: buf.readUInt16LE(p + 10), flags: buf.readUInt16LE(p + 8), crc: buf.readUInt32LE(p + 16), compressedSize, size, localOffset, mode });
    p = extraEnd + commentLen;
  }
  return entries;
}

/** The bytes of one entry, CRC-checked. */
export function readZipEntry(buf: Buffer, entry: ZipEntry): Buffer {
  const h = entry.localOffset;
  if (buf.readUInt32LE(h) !== LOCAL) throw new Error(`zip: bad local header for ${entry.name}`);
  if (entry.flags & 1) throw new Error(`zip: ${entry.name} is encrypted`);
  const start = h + 30 + buf.readUInt16LE(h + 26) + buf.readUInt16LE(h + 28);
  const raw = buf.subarray(start, start + entry.compressedSize);
  let data: Buffer;
  if (entry.method === 0) data = Buffer.from(raw);
  else if (entry.method === 8) data = inflateRawSync(raw);
  else throw new Error(`zip: ${entry.name} uses compression method ${entry.method} (only stored and deflate are supported)`);
  if (data.length !== entry.size) throw new Error(`zip: ${entry.name} is ${data.length} bytes, the directory says ${entry.size}`);
  if ((crc32(data) >>> 0) !== entry.crc) throw new Error(`zip: CRC mismatch in ${entry.name} (corrupt archive)`);
  return data;
}
