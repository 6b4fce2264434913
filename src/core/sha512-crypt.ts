import { createHash, randomInt, timingSafeEqual, type Hash } from 'node:crypto';

/**
 * SHA-512-crypt (`$6$`), the algorithm of glibc's crypt(3) as Ulrich Drepper's
 * "Unix crypt using SHA-256 and SHA-512" specifies it, on node:crypto alone:
 * what /etc/shadow, `openssl passwd -6` and Raspberry Pi OS's userconf.txt hold.
 *
 *   $6$<salt>$<86 chars>               rounds 5000 (the default, not written)
 *   $6$rounds=<N>$<salt>$<86 chars>    N clamped to 1000..999999999
 *
 * The salt is at most 16 characters (longer ones are cut, as glibc does) and
 * stops at the first `$`.
 */

/** The characters of crypt's base-64 (and of its salts), in value order. */
export const CRYPT_ALPHABET = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export const SHA512_CRYPT_PREFIX = '$6$';
export const DEFAULT_ROUNDS = 5000;
export const MIN_ROUNDS = 1000;
export const MAX_ROUNDS = 999_999_999;
export const MAX_SALT_LENGTH = 16;

/** A `$6$` hash taken apart. */
export interface Sha512CryptHash {
  /** Set when the hash names its rounds (`rounds=N$`), even N = 5000. */
  readonly rounds?: number;
  readonly salt: string;
  /** The 86 characters after the salt. */
  readonly digest: string;
}

/** A salt of `length` characters from the crypt alphabet, from the system's CSPRNG (unbiased). */
export function randomCryptSalt(length = MAX_SALT_LENGTH): string {
  if (!Number.isInteger(length) || length < 1 || length > MAX_SALT_LENGTH) throw new RangeError(`salt length must be 1..${MAX_SALT_LENGTH}, got ${length}`);
  let out = '';
  for (let i = 0; i < length; i++) out += CRYPT_ALPHABET[randomInt(CRYPT_ALPHABET.length)];
  return out;
}

/** The hash of `password` with `salt` (default: a fresh random 16-char salt) and `rounds` (default 5000, then not written). */
export function sha512Crypt(password: string | Buffer, salt: string = randomCryptSalt(), rounds?: number): string {
  if (salt.includes('$') || salt.includes(':') || /[\n\r]/.test(salt)) throw new RangeError(`salt must not contain '$', ':' or a line break, got ${JSON.stringify(salt)}`);
  if (rounds !== undefined && (!Number.isInteger(rounds) || rounds < 1)) throw new RangeError(`rounds must be a positive integer, got ${rounds}`);
  const s = salt.slice(0, MAX_SALT_LENGTH);
  const n = rounds === undefined ? DEFAULT_ROUNDS : Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, rounds));
  const digest = encode(compute(Buffer.from(password), Buffer.from(s, 'utf8'), n));
  return `${SHA512_CRYPT_PREFIX}${rounds === undefined ? '' : `rounds=${n}$`}${s}$${digest}`;
}

/**
 * Hash `password` with the setting of `setting` (`$6$salt` or `$6$rounds=N$salt`,
 * a trailing `$digest` ignored): crypt(3)'s own interface.
 */
export function sha512CryptWithSetting(password: string | Buffer, setting: string): string {
  const p = parseSetting(setting);
  if (!p) throw new RangeError(`not a SHA-512-crypt setting ($6$[rounds=N$]salt): ${JSON.stringify(setting.slice(0, 40))}`);
  return sha512Crypt(password, p.salt, p.rounds);
}

/** Take a `$6$` hash apart; undefined when it is not one (wrong prefix, bad rounds, digest not 86 crypt characters). */
export function parseSha512Crypt(hash: string): Sha512CryptHash | undefined {
  const p = parseSetting(hash);
  if (!p || p.digest === undefined || !/^[./0-9A-Za-z]{86}$/.test(p.digest)) return undefined;
  return { ...(p.rounds !== undefined ? { rounds: p.rounds } : {}), salt: p.salt, digest: p.digest };
}

/** Does `password` give `hash`? False for anything that is not a well-formed `$6$` hash. Constant-time compare. */
export function verifySha512Crypt(password: string | Buffer, hash: string): boolean {
  const p = parseSha512Crypt(hash);
  if (!p) return false;
  const again = Buffer.from(sha512Crypt(password, p.salt, p.rounds));
  const given = Buffer.from(hash);
  return again.length === given.length && timingSafeEqual(again, given);
}

function parseSetting(text: string): { rounds?: number; salt: string; digest?: string } | undefined {
  if (!text.startsWith(SHA512_CRYPT_PREFIX)) return undefined;
  let rest = text.slice(SHA512_CRYPT_PREFIX.length);
  let rounds: number | undefined;
  const r = /^rounds=([0-9]+)\$/.exec(rest);
  if (r) {
    rounds = Number(r[1]);
    if (!Number.isSafeInteger(rounds) || rounds < 1) return undefined;
    rest = rest.slice(r[0].length);
  }
  const end = rest.indexOf('$');
  const salt = (end < 0 ? rest : rest.slice(0, end)).slice(0, MAX_SALT_LENGTH);
  // glibc cuts a long salt; a hash it wrote then continues with '$' right after the 16 chars
  const digest = end < 0 ? undefined : rest.slice(end + 1);
  if (/[:\n\r]/.test(salt)) return undefined;
  // a normalised hash has the clamped rounds: `rounds=10` is stored as `rounds=1000`
  return { ...(rounds !== undefined ? { rounds: Math.min(MAX_ROUNDS, Math.max(MIN_ROUNDS, rounds)) } : {}), salt, ...(digest !== undefined ? { digest } : {}) };
}

const sha512 = (): Hash => createHash('sha512');

/** `len` bytes of `block` repeated (the spec's "for each block of 64 bytes ... then the remaining bytes"). */
function repeatTo(block: Buffer, len: number): Buffer {
  const out = Buffer.alloc(len);
  for (let i = 0; i < len; i += block.length) block.copy(out, i, 0, Math.min(block.length, len - i));
  return out;
}

/** Steps 1-21 of the spec: the 64-byte result C. */
function compute(p: Buffer, s: Buffer, rounds: number): Buffer {
  const b = sha512().update(p).update(s).update(p).digest();
  const a = sha512().update(p).update(s).update(repeatTo(b, p.length));
  for (let n = p.length; n > 0; n >>= 1) a.update(n & 1 ? b : p);
  let c = a.digest();
  const dp = sha512();
  for (let i = 0; i < p.length; i++) dp.update(p);
  const pSeq = repeatTo(dp.digest(), p.length);
  const ds = sha512();
  for (let i = 0; i < 16 + c[0]!; i++) ds.update(s);
  const sSeq = repeatTo(ds.digest(), s.length);
  for (let i = 0; i < rounds; i++) {
    const h = sha512();
    h.update(i & 1 ? pSeq : c);
    if (i % 3 !== 0) h.update(sSeq);
    if (i % 7 !== 0) h.update(pSeq);
    h.update(i & 1 ? c : pSeq);
    c = h.digest();
  }
  return c;
}

/** The spec's byte order for SHA-512: groups (i, i+21, i+42) rotated left by i mod 3, then the last byte. */
function encode(c: Buffer): string {
  let out = '';
  const b64 = (b2: number, b1: number, b0: number, n: number) => {
    let w = (b2 << 16) | (b1 << 8) | b0;
    for (let i = 0; i < n; i++) {
      out += CRYPT_ALPHABET[w & 0x3f];
      w >>= 6;
    }
  };
  for (let i = 0; i < 21; i++) {
    const at = (k: number) => c[i + 21 * ((k + i) % 3)]!;
    b64(at(0), at(1), at(2), 4);
  }
  b64(0, 0, c[63]!, 2);
  return out;
}
