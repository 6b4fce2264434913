import test from 'ava';
import { sh } from '../../../src/shell/sh.ts';
import { BecomeError } from '../../../src/connectors/become.ts';
import type { SshConnector } from '../../../src/connectors/ssh/connector.ts';
import { must, rootConnector, sshTestTarget, type SshTestTarget } from './_target.ts';

/** A non-root login user with a doas rule, made on the test host and removed after. */
const USER = 'cairntester';
const RULE = '/etc/doas.d/cairn-it.conf';

let target: SshTestTarget;
let admin: SshConnector;

async function setRule(rule: string | undefined): Promise<void> {
  if (rule === undefined) await must(admin, sh`rm -f ${RULE}`);
  else await must(admin, sh`mkdir -p /etc/doas.d && printf '%s\\n' ${rule} > ${RULE} && chmod 0600 ${RULE}`);
}

function tester(become: 'doas' | 'sudo' = 'doas'): SshConnector {
  return rootConnector(target, { user: USER, become });
}

test.before(async () => {
  target = await sshTestTarget();
  admin = rootConnector(target);
  await must(
    admin,
    sh`command -v doas >/dev/null || apk add --no-network doas >/dev/null
id ${USER} >/dev/null 2>&1 || adduser -D -s /bin/sh ${USER}
sed -i ${`s/^${USER}:!:/${USER}:*:/`} /etc/shadow
install -d -m 700 -o ${USER} /home/${USER}/.ssh
install -m 600 -o ${USER} /root/.ssh/authorized_keys /home/${USER}/.ssh/authorized_keys`,
  );
  await setRule(`permit nopass ${USER} as root`);
});

test.after.always(async () => {
  await admin?.run(sh`rm -f ${RULE}; deluser --remove-home ${USER} 2>/dev/null; rm -rf /root/cairn-it-become`).catch(() => undefined);
  await admin?.close();
});

test.serial('doas: commands run as root, noBecome runs as the login user', async (t) => {
  const c = tester();
  try {
    t.is(await must(c, sh`id -u`), '0\n');
    t.is((await c.run(sh`id -un`, { noBecome: true })).stdout, `${USER}\n`);
    // quoting survives the extra /bin/sh -c layer
    t.is(await must(c, sh`printf %s ${`it's "$(quoted)" \`x\` $HOME`}`), `it's "$(quoted)" \`x\` $HOME`);
    t.is((await c.run(sh`exit 7`)).exitCode, 7, 'the exit code of the command, not of doas');
    t.is((await c.run(sh`tr a-z A-Z`, { stdin: 'via doas' })).stdout, 'VIA DOAS');
  } finally {
    await c.close();
  }
});

test.serial('doas: upload writes as root, download reads root-only files', async (t) => {
  const c = tester();
  try {
    await must(admin, sh`mkdir -p /root/cairn-it-become && printf secret > /root/cairn-it-become/shadowish && chmod 600 /root/cairn-it-become/shadowish`);
    await c.upload('/root/cairn-it-become/up', Buffer.from('from tester\n'), { mode: 0o640 });
    t.is(await must(admin, sh`stat -c '%U %a' /root/cairn-it-become/up; cat /root/cairn-it-become/up`), 'root 640\nfrom tester\n');
    t.deepEqual(await c.download('/root/cairn-it-become/shadowish'), Buffer.from('secret'));
    t.is(await c.download('/root/cairn-it-become/missing'), undefined);
  } finally {
    await c.close();
  }
});

test.serial('doas: a timed-out command running as root is killed', async (t) => {
  const c = tester();
  try {
    const r = await c.run(sh`sleep 41.5`, { timeoutMs: 700 });
    t.is(r.exitCode, 124);
    t.is((await must(admin, sh`ps -o args | grep -c '[s]leep 41.5' || true`)).trim(), '0');
  } finally {
    await c.close();
  }
});

test.serial('without become the login user uploads over SFTP as itself', async (t) => {
  const c = rootConnector(target, { user: USER });
  try {
    await c.upload(`/home/${USER}/mine`, Buffer.from('x'));
    t.is(await must(c, sh`stat -c %U ${`/home/${USER}/mine`}`), `${USER}\n`);
    t.is(c.stats.sftp, 'available');
  } finally {
    await c.close();
  }
});

test.serial('doas with a password rule: a clear error instead of a prompt', async (t) => {
  await setRule(`permit ${USER} as root`);
  const c = tester();
  try {
    const err = await t.throwsAsync(c.run(sh`id -u`), { instanceOf: BecomeError });
    t.regex(err!.message, new RegExp(`become with doas needs passwordless doas for user ${USER}`));
    t.regex(err!.message, new RegExp(`permit nopass ${USER} as root`));
    t.is(err!.host, 'it-target');
  } finally {
    await c.close();
    await setRule(`permit nopass ${USER} as root`);
  }
});

test.serial('doas without any rule: a clear error', async (t) => {
  await setRule(undefined);
  const c = tester();
  try {
    const err = await t.throwsAsync(c.run(sh`id -u`), { instanceOf: BecomeError });
    t.regex(err!.message, new RegExp(`no doas rule lets user ${USER} run commands as root`));
    // upload through become fails loudly too
    await t.throwsAsync(c.upload('/root/x', Buffer.from('x')), { instanceOf: BecomeError });
  } finally {
    await c.close();
    await setRule(`permit nopass ${USER} as root`);
  }
});

test.serial('sudo on a host without sudo: a clear error', async (t) => {
  if ((await admin.run(sh`command -v sudo`)).exitCode === 0) return t.pass('sudo is installed on the test host');
  const c = tester('sudo');
  try {
    const err = await t.throwsAsync(c.run(sh`id -u`), { instanceOf: BecomeError });
    t.regex(err!.message, /sudo is not installed on it-target/);
  } finally {
    await c.close();
  }
});

test.serial('become is skipped when logging in as root', async (t) => {
  const c = rootConnector(target, { become: 'sudo' });
  try {
    t.is(await must(c, sh`id -u`), '0\n', 'no sudo needed (and none installed)');
  } finally {
    await c.close();
  }
});
