import { createHash } from 'node:crypto';

/**
 * Helpers for SSH public key blobs (the wire format a server sends as its host
 * key: string type, then type-specific fields).
 */

/** The key type written at the start of an SSH public key blob ('ssh-ed25519', 'ecdsa-sha2-nistp256', ...). */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  const type = blob.subarray(4, 4 + len).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : undefined;
}

/** OpenSSH-style fingerprint: `SHA256:` + unpadded base64 of the blob's SHA-256. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * Host key algorithms (as negotiated in the SSH handshake) that produce a key of
 * this type. An 'ssh-rsa' key is used with rsa-sha2-512/256 signatures too.
 */
export function algorithmsForKeyType(type: string): string[] {
  if (type === 'ssh-rsa') return ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  return [type];
}

/** The host key algorithms ssh2 can verify, in its default preference order. */
export const DEFAULT_HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;

/**
 * Like OpenSSH: prefer the algorithms of key types already recorded for the
 * host, so a server with several host keys presents the one we know.
 */
export function preferredHostKeyAlgorithms(knownTypes: readonly string[]): string[] {
  const first: string[] = [];
  for (const t of knownTypes) for (const a of algorithmsForKeyType(t)) if (!first.includes(a)) first.push(a);
  const supported = new Set<string>(DEFAULT_HOST_KEY_ALGORITHMS);
  const known = first.filter((a) => supported.has(a));
  return [...known, ...DEFAULT_HOST_KEY_ALGORITHMS.filter((a) => !known.includes(a))];
}
