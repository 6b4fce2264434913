import test from 'ava';
import type { ServerChannel } from 'ssh2';
import { BecomeError, becomeFailure, wrapBecome } from '../../../src/connectors/become.ts';
import { withPasswordLine } from '../../../src/connectors/become-password.ts';
import { stdinBytes } from '../../helpers/stdin.ts';
import { SshConnector } from '../../../src/connectors/ssh/connector.ts';
import { Secret } from '../../../src/core/secret.ts';
import { withOrigin } from '../../../src/core/secret-origin.ts';
import { sh } from '../../../src/shell/sh.ts';
import { fakeHost, startFakeSshServer } from '../../helpers/fake-ssh-server.ts';

test('wrapBecome with a password: sudo -k -S with an empty prompt', (t) => {
  t.is(wrapBecome(sh`id -u`, 'sudo', { password: true }).text, `sudo -k -S -p '' -- /bin/sh -c 'id -u'`);
  t.is(wrapBecome(sh`id -u`, 'doas', { password: true }).text, `doas -n /bin/sh -c 'id -u'`, 'doas: never a password on stdin');
});

test('withPasswordLine: the password line, then the input', (t) => {
  const pw = new Secret('line-pw');
  const joined = (s: Parameters<typeof withPasswordLine>[1]) => stdinBytes(withPasswordLine(pw, s));
  t.is(joined(undefined).toString(), 'line-pw\n');
  t.is(joined('data').toString(), 'line-pw\ndata');
  t.is(joined(Buffer.from([0, 1])).toString('hex'), Buffer.from('line-pw\n\x00\x01').toString('hex'));
  // pieces stay pieces (a shared upload Buffer is not copied)
  const big = Buffer.alloc(1024, 7);
  const out = withPasswordLine(pw, [big, Buffer.from('x')]);
  t.is(out.length, 3);
  t.is(out[1], big);
});

/** A stand-in sudo: -n needs a password (unless nopasswd); -S reads its first stdin line (each line one attempt). */
function fakeSudo(right: string, o: { nopasswd?: boolean } = {}) {
  const attempts: string[] = [];
  const stdins: string[] = [];
  const exec = (command: string, ch: ServerChannel) => {
    let input = '';
    ch.on('data', (d: Buffer) => (input += d.toString()));
    ch.on('end', () => {
      const done = (code: number, out = '', err = '') => {
        if (out) ch.write(out);
        if (err) ch.stderr.write(err);
        ch.exit(code);
        ch.end();
      };
      if (command.includes('sudo -k -n') || command.includes('sudo -n')) return o.nopasswd ? done(0, command.includes('echo') ? 'ran\n' : '') : done(1, '', 'sudo: a password is required\n');
      if (!command.includes('sudo -k -S')) return done(0);
      const lines = input.split('\n');
      for (const [i, line] of lines.entries()) {
        if (i === lines.length - 1 && line === '') break;
        attempts.push(line);
        if (line === right) {
          stdins.push(lines.slice(i + 1).join('\n'));
          return done(0, '0\n');
        }
        if (i === 2) break;
      }
      done(1, '', `Sorry, try again.\nsudo: ${attempts.length} incorrect password attempt\n`);
    });
  };
  return { exec, attempts, stdins };
}

async function connector(sudo: ReturnType<typeof fakeSudo>, password: string) {
  const server = await startFakeSshServer({ exec: sudo.exec });
  const h = fakeHost('sudo1', server.port);
  const spec = { ...h.spec, user: 'ops', become: 'sudo' as const, becomePassword: withOrigin(new Secret(password), '!secret_env CAIRN_BECOME_PASSWORD') };
  return { server, conn: new SshConnector(spec, h.settings, { ...h.options, transfer: 'exec' }) };
}

test('the sudo password is checked once, then fed before every command\'s own stdin', async (t) => {
  const sudo = fakeSudo('sudo-pw-1');
  const { server, conn } = await connector(sudo, 'sudo-pw-1');
  try {
    t.is((await conn.run(sh`id -u`)).stdout, '0\n');
    await conn.upload('/etc/x', Buffer.from('file body'));
    t.deepEqual(sudo.stdins, ['', '', 'file body'], 'the verify, id -u, then the upload: the command gets only its own input');
    t.is(server.commands.filter((c) => c.includes('sudo -k -n')).length, 1, 'probed once');
    t.false(server.commands.some((c) => c.includes('sudo-pw-1')), 'the password is never in a command line');
  } finally {
    await conn.close();
    await server.close();
  }
});

test('a wrong sudo password: one attempt, a BecomeError naming its origin, kept for later commands', async (t) => {
  const sudo = fakeSudo('right');
  const { server, conn } = await connector(sudo, 'wrong-sudo-pw');
  try {
    const err = await t.throwsAsync(conn.run(sh`id -u`), { instanceOf: BecomeError });
    t.regex(err!.message, /sudo on sudo1 refused the become password of user ops \(tried once, not again\): check the password \(!secret_env CAIRN_BECOME_PASSWORD\)/);
    t.false(err!.message.includes('wrong-sudo-pw'));
    await t.throwsAsync(conn.run(sh`true`), { instanceOf: BecomeError });
    t.deepEqual(sudo.attempts, ['wrong-sudo-pw'], 'sudo saw one attempt in all');
  } finally {
    await conn.close();
    await server.close();
  }
});

test('NOPASSWD sudo: the password is not fed (commands keep sudo -n)', async (t) => {
  const sudo = fakeSudo('x', { nopasswd: true });
  const { server, conn } = await connector(sudo, 'unused-pw');
  try {
    t.is((await conn.run(sh`echo hi`)).stdout, 'ran\n');
    t.deepEqual(sudo.attempts, []);
    t.true(server.commands.some((c) => c.startsWith("/bin/sh -c 'sudo -n -- ")));
  } finally {
    await conn.close();
    await server.close();
  }
});

test('doas asking for a password with a become password set: says doas reads it only from a terminal, use permit nopass', (t) => {
  const res = { command: 'doas -n /bin/sh -c id', exitCode: 1, stdout: '', stderr: 'doas: Authorization required\n', durationMs: 1 };
  const e = becomeFailure('alp1', res, 'doas', 'tester', { password: true });
  t.regex(e!.message, /doas reads a password only from a terminal, which cairn does not open .*permit nopass tester as root/);
});
