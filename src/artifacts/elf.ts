/** What an ELF binary needs from a host: CPU and C library. */
export interface ElfInfo {
  readonly bits: 32 | 64;
  /** e_machine: x86_64 = 62, aarch64 = 183, arm = 40, i386 = 3. */
  readonly machine: number;
  /** cairn's arch name, or `machine <n>` for anything else. */
  readonly arch: 'amd64' | 'arm64' | 'arm' | '386' | `machine ${number}`;
  /** From PT_INTERP: ld-musl -> musl, ld-linux -> glibc, none -> static. */
  readonly libc: 'musl' | 'glibc' | 'static' | 'other';
  readonly interpreter: string | undefined;
}

const ARCH: Record<number, ElfInfo['arch']> = { 62: 'amd64', 183: 'arm64', 40: 'arm', 3: '386' };
const PT_INTERP = 3;

/** Parse an ELF header and program headers; undefined when `buf` is not ELF. */
export function inspectElf(buf: Buffer): ElfInfo | undefined {
  if (buf.length < 52 || buf.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const bits = buf[4] === 2 ? 64 : 32;
  const le = buf[5] !== 2;
  const u16 = (at: number) => (le ? buf.readUInt16LE(at) : buf.readUInt16BE(at));
  const u32 = (at: number) => (le ? buf.readUInt32LE(at) : buf.readUInt32BE(at));
  const addr = (at: number) => (bits === 64 ? Number(le ? buf.readBigUInt64LE(at) : buf.readBigUInt64BE(at)) : u32(at));
  const machine = u16(0x12);
  const phoff = addr(bits === 64 ? 0x20 : 0x1c);
  const phentsize = u16(bits === 64 ? 0x36 : 0x2a);
  const phnum = u16(bits === 64 ? 0x38 : 0x2c);
  let interpreter: string | undefined;
  for (let i = 0; i < phnum; i++) {
    const ph = phoff + i * phentsize;
    if (ph + phentsize > buf.length) break;
    if (u32(ph) !== PT_INTERP) continue;
    const off = addr(bits === 64 ? ph + 8 : ph + 4);
    const size = addr(bits === 64 ? ph + 32 : ph + 16);
    interpreter = buf.toString('latin1', off, Math.min(off + size, buf.length)).replace(/\0+$/, '');
    break;
  }
  const libc = interpreter === undefined ? 'static' : interpreter.includes('ld-musl') ? 'musl' : /ld-linux|ld\.so/.test(interpreter) ? 'glibc' : 'other';
  return { bits, machine, arch: ARCH[machine] ?? `machine ${machine}`, libc, interpreter };
}

export function describeElf(e: ElfInfo): string {
  return `${e.arch} ${e.libc === 'static' ? 'static' : `${e.libc} (${e.interpreter})`}`;
}
