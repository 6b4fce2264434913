/**
 * A minimal tar reader (ustar, GNU long names, pax `path`), for taking one file
 * out of a release tarball on the controller. Gzip is undone by the caller.
 */
export interface TarEntry {
  readonly name: string;
  /** '0' regular, '5' directory, '2' symlink, ... */
  readonly type: string;
  readonly data: Buffer;
  readonly linkName: string;
}

function str(buf: Buffer, at: number, len: number): string {
  const b = buf.subarray(at, at + len);
  const nul = b.indexOf(0);
  return b.toString('utf8', 0, nul === -1 ? b.length : nul);
}

function size(buf: Buffer, at: number): number {
  if (buf[at]! & 0x80) {
    // base-256 (GNU) for sizes beyond 8 GiB
    let v = 0;
    for (let i = at + 1; i < at + 12; i++) v = v * 256 + buf[i]!;
    return v;
  }
  const s = str(buf, at, 12).trim();
  return s === '' ? 0 : parseInt(s, 8);
}

function paxPath(data: Buffer): string | undefined {
  let p = 0;
  let path: string | undefined;
  while (p < data.length) {
    const sp = data.indexOf(0x20, p);
    if (sp === -1) break;
    const len = parseInt(data.toString('utf8', p, sp), 10);
    if (!(len > 0)) break;
    const rec = data.toString('utf8', sp + 1, p + len - 1);
    const eq = rec.indexOf('=');
    if (rec.slice(0, eq) === 'path') path = rec.slice(eq + 1);
    p += len;
  }
  return path;
}

export function isTar(buf: Buffer): boolean {
  return buf.length >= 512 && buf.toString('latin1', 257, 262) === 'ustar';
}

export function* readTar(buf: Buffer): Generator<TarEntry> {
  let p = 0;
  let longName: string | undefined;
  while (p + 512 <= buf.length) {
    const header = buf.subarray(p, p + 512);
    if (header.every((b) => b === 0)) return;
    const sum = parseInt(str(header, 148, 8).trim(), 8);
    let computed = 0;
    for (let i = 0; i < 512; i++) computed += i >= 148 && i < 156 ? 0x20 : header[i]!;
    if (sum !== computed) throw new Error(`tar: bad header checksum at offset ${p} (not a tar archive, or corrupt)`);
    const len = size(header, 124);
    const type = String.fromCharCode(header[156] || 0x30);
    const data = buf.subarray(p + 512, p + 512 + len);
    p += 512 + Math.ceil(len / 512) * 512;
    if (type === 'L') {
      longName = str(data, 0, data.length);
      continue;
    }
    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (type === 'g') continue;
    const prefix = header.toString('latin1', 257, 262) === 'ustar' ? str(header, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${str(header, 0, 100)}` : str(header, 0, 100));
    longName = undefined;
    yield { name, type, data, linkName: str(header, 157, 100) };
  }
}
