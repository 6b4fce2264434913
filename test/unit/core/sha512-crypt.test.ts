import test from 'ava';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import {
  CRYPT_ALPHABET,
  parseSha512Crypt,
  randomCryptSalt,
  sha512Crypt,
  sha512CryptWithSetting,
  verifySha512Crypt,
} from '../../../src/core/sha512-crypt.ts';

// Ulrich Drepper, "Unix crypt using SHA-256 and SHA-512", the SHA-512 test vectors
const SPEC: Array<[setting: string, password: string, hash: string]> = [
  ['$6$saltstring', 'Hello world!', '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1'],
  ['$6$rounds=10000$saltstringsaltstring', 'Hello world!', '$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.'],
  ['$6$rounds=5000$toolongsaltstring', 'This is just a test', '$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0'],
  [
    '$6$rounds=1400$anotherlongsaltstring',
    'a very much longer text to encrypt.  This one even stretches over morethan one line.',
    '$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1',
  ],
  ['$6$rounds=77777$short', 'we have a short salt string but not a short password', '$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0'],
  ['$6$rounds=123456$asaltof16chars..', 'a short string', '$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1'],
  ['$6$rounds=10$roundstoolow', 'the minimum number is still observed', '$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.'],
];

for (const [setting, password, hash] of SPEC) {
  test(`spec vector ${setting}`, (t) => {
    t.is(sha512CryptWithSetting(password, setting), hash);
    t.true(verifySha512Crypt(password, hash));
    t.false(verifySha512Crypt(`${password}x`, hash));
  });
}

test('the salt: 16 random crypt characters by default; rounds written only when given', (t) => {
  const salts = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const s = randomCryptSalt();
    t.is(s.length, 16);
    t.true([...s].every((c) => CRYPT_ALPHABET.includes(c)), s);
    salts.add(s);
  }
  t.is(salts.size, 50);
  const h = sha512Crypt('pw');
  t.regex(h, /^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
  t.not(sha512Crypt('pw'), h, 'a new salt every time');
  t.regex(sha512Crypt('pw', 'abc', 5000), /^\$6\$rounds=5000\$abc\$/);
  t.regex(sha512Crypt('pw', 'abc', 10), /^\$6\$rounds=1000\$abc\$/, 'clamped like glibc');
  t.throws(() => sha512Crypt('pw', 'a$b'), { message: /must not contain/ });
  t.throws(() => randomCryptSalt(17), { instanceOf: RangeError });
});

test('parse and verify refuse what is not a $6$ hash', (t) => {
  t.deepEqual(parseSha512Crypt(SPEC[0]![2]), { salt: 'saltstring', digest: SPEC[0]![2].split('$')[3] });
  t.is(parseSha512Crypt(SPEC[1]![2])?.rounds, 10000);
  for (const bad of ['', '$5$saltstring$abc', '$6$saltstring', '$6$saltstring$short', '$6$rounds=x$salt$' + 'a'.repeat(86), `${SPEC[0]![2]}x`, '!', '*']) {
    t.is(parseSha512Crypt(bad), undefined, bad);
    t.false(verifySha512Crypt('Hello world!', bad), bad);
  }
});

/** The system's answers: `openssl passwd -6` and crypt(3) of the C library (through perl, in perl-base). */
function openssl(password: string, setting: string): string | undefined {
  const salt = setting.slice(3);
  const r = spawnSync('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], { input: password, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}
function libcCrypt(password: string, setting: string): string | undefined {
  const r = spawnSync('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', password, setting], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : undefined;
}
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** Random passwords (ASCII, UTF-8, long) and salts (every length, every character of the alphabet) and rounds. */
function cases(n: number): Array<[string, string]> {
  const out: Array<[string, string]> = [['', '$6$empty'], ['pässwörd ✓', '$6$utf8'], ['x'.repeat(300), '$6$rounds=1000$long']];
  for (let i = 0; i < n; i++) {
    // no newline: openssl -stdin reads one line
    const pw = randomBytes(randomInt(1, 80)).toString('base64').replace(/\//g, ' ');
    const salt = randomCryptSalt(randomInt(1, 17));
    out.push([pw, i % 4 === 0 ? `$6$rounds=${randomInt(1000, 3000)}$${salt}` : `$6$${salt}`]);
  }
  return out;
}

test('equal to `openssl passwd -6 -salt`', (t) => {
  if (!have('openssl')) return t.fail('openssl is not installed on this controller: test/install-deps.sh installs it');
  // openssl reads no empty password and cuts one at 256 characters (crypt(3) below covers both)
  for (const [pw, setting] of cases(40).filter(([p]) => p !== '' && p.length <= 256)) t.is(openssl(pw, setting), sha512CryptWithSetting(pw, setting), `${JSON.stringify(pw)} ${setting}`);
  for (const [setting, pw, hash] of SPEC.slice(0, 3)) t.is(openssl(pw, setting), hash, 'the spec vectors, by openssl');
});

test("equal to the C library's crypt(3) (perl's crypt)", (t) => {
  if (!have('perl')) return t.fail('perl is not installed on this controller: test/install-deps.sh installs perl-base');
  for (const [pw, setting] of cases(40)) t.is(libcCrypt(pw, setting), sha512CryptWithSetting(pw, setting), `${JSON.stringify(pw)} ${setting}`);
  const h = sha512Crypt('correct horse');
  t.is(libcCrypt('correct horse', h), h, 'crypt(3) verifies a hash made here with its random salt');
  t.not(libcCrypt('wrong horse', h), h);
});
