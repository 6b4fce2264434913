import type { VerifyCallback } from 'ssh2';
import { quote } from '../../shell/quote.ts';
import type { SshTarget } from '../ssh-config.ts';
import { fingerprint, keyTypeOf } from '../host-key.ts';
import { appendKnownHost, checkHostKey, describeKey, knownHostName, type KnownHosts } from '../known-hosts.ts';

export interface HostVerifier {
  /** ssh2's hostVerifier option. */
  verify: (key: Buffer, verify: VerifyCallback) => void;
  /** Why the host key was refused, once it was. */
  failure(): string | undefined;
}

export interface HostVerifierOptions {
  known: KnownHosts;
  /** Record an unknown key instead of refusing it. */
  acceptNew: boolean;
  /** Put before every message (names the jump host). */
  prefix: string;
  /** Called with a description of each key recorded in known_hosts. */
  onRecorded: (what: string) => void;
  /** HashKnownHosts yes: record the name hashed (also done when the file already has hashed names). */
  hash?: boolean;
}

/** Checks the server's host key against known_hosts: known keys pass, anything else is refused with the fix. */
export function hostVerifier(t: SshTarget, o: HostVerifierOptions): HostVerifier {
  const { known, acceptNew, prefix } = o;
  let failure: string | undefined;
  const name = knownHostName(t.hostname, t.port);
  const verify = (key: Buffer, done: VerifyCallback): void => {
    const fail = (why: string): void => {
      failure = why;
      done(false);
    };
    const check = checkHostKey(known, t.hostname, t.port, key);
    const removeFix = (file: string): string => `ssh-keygen -R ${quote(name)} -f ${quote(file)}`;
    switch (check.status) {
      case 'known':
        done(true);
        return;
      case 'revoked':
        fail(
          `${prefix}host key of ${name} is REVOKED: the server offered ${describeKey(key)}, which ${check.entry.file}:${check.entry.line} marks @revoked. ` +
            'Refusing to connect. The host must get a new host key.',
        );
        return;
      case 'mismatch': {
        const e = check.entries[0]!;
        fail(
          `${prefix}HOST KEY MISMATCH for ${name}: the server offered ${describeKey(key)}, but ${e.file}:${e.line} records ${describeKey(e.key)}. ` +
            'Someone may be intercepting the connection, or the host was reinstalled. ' +
            `If the change is expected, remove the old key with: ${removeFix(e.file)} (then connect again with --accept-new-host-keys)`,
        );
        return;
      }
      case 'other-types': {
        const e = check.entries[0]!;
        fail(
          `${prefix}host key for ${name} does not match: the server offered ${describeKey(key)}, but only ${[...new Set(check.entries.map((x) => x.keyType))].join(', ')} keys are recorded (${e.file}:${e.line}). ` +
            `If the change is expected, remove the old keys with: ${removeFix(e.file)}`,
        );
        return;
      }
      case 'unknown': {
        const file = t.knownHostsFiles[0];
        if (!acceptNew || !file) {
          fail(
            `${prefix}host key for ${name} is unknown: the server offered ${describeKey(key)} and it is not in ${t.knownHostsFiles.join(', ') || '(no known_hosts file)'}. ` +
              `Check the fingerprint, then record it (ssh-keyscan${t.port !== 22 ? ` -p ${t.port}` : ''} ${quote(t.hostname)} >> ${quote(file ?? '~/.ssh/known_hosts')}) or run with --accept-new-host-keys.`,
          );
          return;
        }
        appendKnownHost(file, t.hostname, t.port, key, { hash: !!o.hash }).then(
          ({ line, hashed }) => {
            o.onRecorded(`${name} ${keyTypeOf(key)} ${fingerprint(key)} -> ${file}:${line}${hashed ? ' (hashed)' : ''}`);
            done(true);
          },
          (err: Error) => fail(`${prefix}could not record the host key of ${name} in ${file}: ${err.message}`),
        );
        return;
      }
    }
  };
  return { verify, failure: () => failure };
}
