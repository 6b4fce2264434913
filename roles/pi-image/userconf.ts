// userconf.txt of Raspberry Pi OS (Bookworm): one line `user:HASH`, HASH a
// SHA-512-crypt of the password. Its first boot (userconf-pi's userconf-service)
// renames the image's first user (uid 1000) to `user`, sets HASH with
// `chpasswd -e` and deletes the file.
import { Secret, parseSha512Crypt, secretText, sha512Crypt, verifySha512Crypt } from 'cairn-provision';

/**
 * The line for `user` with a fresh hash (random 16-char salt, 5000 rounds). The
 * hash is a Secret of its own, so it is masked wherever it would be shown; the
 * user name stays readable.
 */
export function userconfContent(user: string, password: Secret): Secret {
  const hash = new Secret(sha512Crypt(password.reveal()));
  return secretText`${user}:${hash}\n`;
}

/**
 * Does an existing userconf.txt already say what `userconfContent` would, with
 * another salt: exactly one line `user:HASH` (a final newline) whose HASH is a
 * `$6$` hash of `password`? Then it is kept, so a second run changes nothing.
 * The HASH read is registered as a secret (masked from then on).
 */
export function userconfAccepts(text: string, user: string, password: Secret): boolean {
  const m = /^([^:\n]*):([^\n]*)\n$/.exec(text);
  if (!m) return false;
  const hash = m[2]!;
  if (hash) new Secret(hash);
  return m[1] === user && parseSha512Crypt(hash) !== undefined && verifySha512Crypt(password.reveal(), hash);
}
