import { globMatch } from '../core/glob.ts';
import { createHmac, randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { fingerprint, keyTypeOf } from './host-key.ts';
import { fileStamp } from './stdin.ts';

/**
 * OpenSSH known_hosts files (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"):
 *
 *   [@revoked|@cert-authority] hostpatterns keytype base64-key [comment]
 *
 * hostpatterns is a comma list of patterns (`*`, `?`, `!negation`), with
 * `[host]:port` for servers on a port other than 22, or one hashed entry
 * `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`.
 *
 * `@cert-authority` lines are parsed but ignored: cairn (ssh2) does not
 * verify host certificates, so such hosts need a plain key line.
 */

export type KnownHostMarker = 'revoked' | 'cert-authority';

export type KnownHostNames =
  | { kind: 'patterns'; patterns: string[] }
  | { kind: 'hashed'; salt: Buffer; hash: Buffer };

export interface KnownHostEntry {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  marker?: KnownHostMarker;
  names: KnownHostNames;
  keyType: string;
  keyBase64: string;
  key: Buffer;
  comment?: string;
}

export interface KnownHostsProblem {
  file: string;
  line: number;
  message: string;
}

export interface KnownHosts {
  /** Files read, in order (a missing file is listed and simply has no entries). */
  files: string[];
  entries: KnownHostEntry[];
  /** Lines that could not be parsed (skipped, like OpenSSH does). */
  problems: KnownHostsProblem[];
}

/** The name a host is recorded under: `host` on port 22, `[host]:port` otherwise. Lower-cased like OpenSSH. */
export function knownHostName(host: string, port = 22): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** Parse one known_hosts file's text. */
export function parseKnownHosts(text: string, file = 'known_hosts'): KnownHosts {
  const entries: KnownHostEntry[] = [];
  const problems: KnownHostsProblem[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const fields = trimmed.split(/[ \t]+/);
    let marker: KnownHostMarker | undefined;
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else {
        problems.push({ file, line, message: `unknown marker ${m}` });
        return;
      }
    }
    const [hostField, keyType, keyBase64, ...rest] = fields;
    if (!hostField || !keyType || !keyBase64) {
      problems.push({ file, line, message: 'expected: hostpatterns keytype base64-key' });
      return;
    }
    const key = Buffer.from(keyBase64, 'base64');
    const blobType = keyTypeOf(key);
    if (!blobType || key.toString('base64').replace(/=+$/, '') !== keyBase64.replace(/=+$/, '')) {
      problems.push({ file, line, message: 'the key is not valid base64 of an SSH public key' });
      return;
    }
    if (blobType !== keyType) {
      problems.push({ file, line, message: `the key says type ${blobType} but the line says ${keyType}` });
      return;
    }
    let names: KnownHostNames;
    if (hostField.startsWith('|')) {
      const m = /^\|1\|([^|]+)\|([^|]+)$/.exec(hostField);
      if (!m) {
        problems.push({ file, line, message: 'hashed host name must look like |1|salt|hash' });
        return;
      }
      const salt = Buffer.from(m[1]!, 'base64');
      const hash = Buffer.from(m[2]!, 'base64');
      if (salt.length !== 20 || hash.length !== 20) {
        problems.push({ file, line, message: 'hashed host name has a bad salt or hash length (expected 20 bytes each)' });
        return;
      }
      names = { kind: 'hashed', salt, hash };
    } else {
      names = { kind: 'patterns', patterns: hostField.split(',').filter((p) => p !== '') };
    }
    const entry: KnownHostEntry = { file, line, names, keyType, keyBase64, key };
    if (marker) entry.marker = marker;
    if (rest.length) entry.comment = rest.join(' ');
    entries.push(entry);
  });
  return { files: [file], entries, problems };
}

/**
 * A comma list of patterns matches when some positive pattern matches and no
 * negated (`!`) pattern does (OpenSSH match_hostname()). Case-insensitive.
 */
export function patternListMatches(name: string, patterns: readonly string[]): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (globMatch(name, p.slice(1), { ignoreCase: true })) return false;
    } else if (globMatch(name, p, { ignoreCase: true })) matched = true;
  }
  return matched;
}

function hashedName(salt: Buffer, name: string): Buffer {
  return createHmac('sha1', salt).update(name).digest();
}

/** Does this line apply to `name` (as made by knownHostName())? */
export function entryMatches(entry: KnownHostEntry, name: string): boolean {
  if (entry.names.kind === 'hashed') return hashedName(entry.names.salt, name.toLowerCase()).equals(entry.names.hash);
  return patternListMatches(name, entry.names.patterns);
}

/** Hash a host name like `ssh-keygen -H` / HashKnownHosts yes. */
export function hashKnownHostName(name: string, salt: Buffer = randomBytes(20)): string {
  return `|1|${salt.toString('base64')}|${hashedName(salt, name.toLowerCase()).toString('base64')}`;
}

export type HostKeyCheck =
  /** The offered key is recorded for this host. */
  | { status: 'known'; entry: KnownHostEntry }
  /** The offered key is marked @revoked. */
  | { status: 'revoked'; entry: KnownHostEntry }
  /** The host has a different key of the same type recorded. */
  | { status: 'mismatch'; entries: KnownHostEntry[] }
  /** The host only has keys of other types recorded. */
  | { status: 'other-types'; entries: KnownHostEntry[] }
  /** Nothing recorded for this host. */
  | { status: 'unknown' };

/** Check a server's host key against known_hosts entries (revocation first, like OpenSSH). */
export function checkHostKey(known: KnownHosts, host: string, port: number, key: Buffer): HostKeyCheck {
  const name = knownHostName(host, port);
  const type = keyTypeOf(key);
  for (const e of known.entries) {
    if (e.marker === 'revoked' && e.key.equals(key) && entryMatches(e, name)) return { status: 'revoked', entry: e };
  }
  const forHost = known.entries.filter((e) => e.marker === undefined && entryMatches(e, name));
  const exact = forHost.find((e) => e.key.equals(key));
  if (exact) return { status: 'known', entry: exact };
  const sameType = forHost.filter((e) => e.keyType === type);
  if (sameType.length) return { status: 'mismatch', entries: sameType };
  if (forHost.length) return { status: 'other-types', entries: forHost };
  return { status: 'unknown' };
}

/** Key types recorded for the host (to prefer them in the handshake). */
export function knownKeyTypes(known: KnownHosts, host: string, port: number): string[] {
  const name = knownHostName(host, port);
  const types: string[] = [];
  for (const e of known.entries) {
    if (e.marker === undefined && entryMatches(e, name) && !types.includes(e.keyType)) types.push(e.keyType);
  }
  return types;
}

/** One known_hosts line in OpenSSH format (plain host name, or hashed with `hash`). */
export function formatKnownHostsLine(host: string, port: number, key: Buffer, options: { hash?: boolean } = {}): string {
  const type = keyTypeOf(key);
  if (!type) throw new Error('not an SSH public key blob');
  const name = knownHostName(host, port);
  return `${options.hash ? hashKnownHostName(name) : name} ${type} ${key.toString('base64')}`;
}

/**
 * Parsed files of this process by path, with the stamp they were read at: the hosts of
 * a run share one parse of the same known_hosts (a file recorded to meanwhile is read again).
 */
const parsedFiles = new Map<string, { stamp: string; parsed: Promise<KnownHosts | undefined> }>();

/** A missing known_hosts file is no file (undefined); any other failure says which file. */
function unreadable(f: string, err: unknown): undefined {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
  throw new Error(`cannot read known_hosts file ${f}: ${(err as Error).message}`, { cause: err });
}

async function loadKnownHostsFile(f: string): Promise<KnownHosts | undefined> {
  let stamp: string;
  try {
    stamp = fileStamp(await fsp.stat(f));
  } catch (err) {
    return unreadable(f, err);
  }
  const had = parsedFiles.get(f);
  if (had?.stamp === stamp) return had.parsed;
  const parsed = fsp.readFile(f, 'utf8').then(
    (text) => parseKnownHosts(text, f),
    (err: unknown) => unreadable(f, err),
  );
  parsedFiles.set(f, { stamp, parsed });
  parsed.catch(() => parsedFiles.get(f)?.parsed === parsed && parsedFiles.delete(f));
  return parsed;
}

/**
 * Read and merge known_hosts files; a missing file counts as empty. The result is
 * shared with every other caller that reads the same unchanged files: do not change it.
 */
export async function loadKnownHosts(files: readonly string[]): Promise<KnownHosts> {
  const parsed = await Promise.all(files.map(loadKnownHostsFile));
  const read = parsed.filter((p) => p !== undefined);
  if (files.length === 1 && read.length === 1) return read[0]!;
  return { files: [...files], entries: read.flatMap((p) => p.entries), problems: read.flatMap((p) => p.problems) };
}

/** Serialises writers per file inside this process. */
const fileLocks = new Map<string, Promise<unknown>>();

async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const prev = fileLocks.get(file) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const settled = next.catch(() => undefined);
  fileLocks.set(file, settled);
  try {
    return await next;
  } finally {
    if (fileLocks.get(file) === settled) fileLocks.delete(file);
  }
}

/**
 * Record a host key: append an OpenSSH-format line to `file` atomically (the old
 * content plus the new line is written to a temp file in the same directory,
 * then renamed over it, keeping the file's mode). If the same key is already
 * recorded for the host (e.g. by a concurrent connection), nothing is written.
 * The name is hashed (`|1|salt|hash`, as OpenSSH's HashKnownHosts) when
 * `hash` is set or when the file already holds a hashed name, plain otherwise.
 * Returns the line number of the key in the file, and whether it is hashed.
 */
export async function appendKnownHost(file: string, host: string, port: number, key: Buffer, options: { hash?: boolean } = {}): Promise<{ line: number; hashed: boolean }> {
  const abs = path.resolve(file);
  return withFileLock(abs, async () => {
    let old = '';
    let mode = 0o600;
    try {
      old = await fsp.readFile(abs, 'utf8');
      mode = (await fsp.stat(abs)).mode & 0o7777;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await fsp.mkdir(path.dirname(abs), { recursive: true, mode: 0o700 });
    }
    const parsed = parseKnownHosts(old, abs);
    const existing = checkHostKey(parsed, host, port, key);
    if (existing.status === 'known') return { line: existing.entry.line, hashed: existing.entry.names.kind === 'hashed' };
    const hashed = !!options.hash || parsed.entries.some((e) => e.names.kind === 'hashed');
    const prefix = old === '' || old.endsWith('\n') ? old : `${old}\n`;
    const content = `${prefix}${formatKnownHostsLine(host, port, key, { hash: hashed })}\n`;
    const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.cairn-${process.pid}-${randomBytes(4).toString('hex')}`);
    const fh = await fsp.open(tmp, 'wx', mode);
    try {
      await fh.writeFile(content);
      await fh.chmod(mode);
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    await fh.close();
    try {
      await fsp.rename(tmp, abs);
    } catch (err) {
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    return { line: prefix.split('\n').length, hashed };
  });
}

/** "ssh-ed25519 SHA256:..." for messages. */
export function describeKey(key: Buffer): string {
  return `${keyTypeOf(key) ?? 'unknown-type'} key ${fingerprint(key)}`;
}
