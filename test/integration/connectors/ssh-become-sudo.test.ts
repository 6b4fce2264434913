import test from 'ava';
import { sh } from '../../../src/shell/sh.ts';
import { BecomeError } from '../../../src/connectors/become.ts';
import { bedHost, must, rootConnector, type SshTestTarget } from './_target.ts';

/**
 * sudo become against the test bed's Debian host (sudo 1.9, bash login shell,
 * dash /bin/sh). Its user `tester` has NOPASSWD sudo (set up by the bed). Only
 * with the bed: the env-var target is one Alpine host without sudo.
 */
const USER = 'tester';
const NOPW_USER = 'cairnsudopw';
let deb: (SshTestTarget & { name: string }) | undefined;

test.before(async () => {
  deb = await bedHost('debian');
});

test.after.always(async () => {
  if (!deb) return;
  const admin = rootConnector(deb);
  await admin.run(sh`rm -f /etc/sudoers.d/zz-cairn-it; userdel -r ${NOPW_USER} 2>/dev/null; true`).catch(() => undefined);
  await admin.close();
});

test.serial('sudo: runs as root, exit codes and quoting through bash + sudo + /bin/sh', async (t) => {
  if (!deb) return t.pass('no Debian host in the test bed: skipped');
  const c = rootConnector(deb, { user: USER, become: 'sudo' });
  try {
    t.is(await must(c, sh`id -u`), '0\n');
    t.is((await c.run(sh`id -un`, { noBecome: true })).stdout, `${USER}\n`);
    t.is((await c.run(sh`exit 5`)).exitCode, 5);
    const v = `it's "$(x)" \`y\` $HOME !event ~ *`;
    t.is(await must(c, sh`printf %s ${v}`), v);
    await c.upload('/root/cairn-it-sudo', Buffer.from('root file'), { mode: 0o600 });
    t.deepEqual(await c.download('/root/cairn-it-sudo'), Buffer.from('root file'));
    t.is(await must(c, sh`stat -c '%U %a' /root/cairn-it-sudo && rm /root/cairn-it-sudo`), 'root 600\n');
  } finally {
    await c.close();
  }
});

test.serial('sudo with use_pty: a timed-out command is still killed (process tree walk)', async (t) => {
  if (!deb) return t.pass('no Debian host in the test bed: skipped');
  const admin = rootConnector(deb);
  await must(admin, sh`echo 'Defaults use_pty' > /etc/sudoers.d/zz-cairn-it && chmod 440 /etc/sudoers.d/zz-cairn-it`);
  const c = rootConnector(deb, { user: USER, become: 'sudo' });
  try {
    const r = await c.run(sh`trap '' HUP TERM; sleep 45.67; echo survived`, { timeoutMs: 1000 });
    t.is(r.exitCode, 124);
    t.is((await must(admin, sh`ps -eo args | grep -c '[s]leep 45.67' || true`)).trim(), '0');
  } finally {
    await c.close();
    await admin.run(sh`rm -f /etc/sudoers.d/zz-cairn-it; pkill -KILL -f 'sleep 45.67'; true`);
    await admin.close();
  }
});

test.serial('sudo that wants a password: a clear error', async (t) => {
  if (!deb) return t.pass('no Debian host in the test bed: skipped');
  const admin = rootConnector(deb);
  await must(
    admin,
    sh`id ${NOPW_USER} >/dev/null 2>&1 || useradd -m -s /bin/sh ${NOPW_USER}
install -d -m 700 -o ${NOPW_USER} /home/${NOPW_USER}/.ssh
install -m 600 -o ${NOPW_USER} /root/.ssh/authorized_keys /home/${NOPW_USER}/.ssh/authorized_keys
usermod -p '*' ${NOPW_USER}`,
  );
  const c = rootConnector(deb, { user: NOPW_USER, become: 'sudo' });
  try {
    // not in sudoers at all
    const denied = await t.throwsAsync(c.run(sh`id -u`), { instanceOf: BecomeError });
    t.regex(denied!.message, new RegExp(`(needs passwordless sudo|may not run commands as root with sudo).*${NOPW_USER}`));
    // a rule that needs the password
    await must(admin, sh`echo ${`${NOPW_USER} ALL=(ALL) ALL`} > /etc/sudoers.d/zz-cairn-it && chmod 440 /etc/sudoers.d/zz-cairn-it`);
    const pw = await t.throwsAsync(c.run(sh`id -u`), { instanceOf: BecomeError });
    t.regex(pw!.message, new RegExp(`become with sudo needs passwordless sudo for user ${NOPW_USER}`));
  } finally {
    await c.close();
    await admin.run(sh`rm -f /etc/sudoers.d/zz-cairn-it`);
    await admin.close();
  }
});
