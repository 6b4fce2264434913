import test from 'ava';
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BecomeError } from '../../../src/connectors/become.ts';
import { SshConnector } from '../../../src/connectors/ssh/connector.ts';
import { UnreachableError } from '../../../src/core/errors.ts';
import { Secret } from '../../../src/core/secret.ts';
import { withOrigin } from '../../../src/core/secret-origin.ts';
import type { HostSpec } from '../../../src/inventory/types.ts';
import { sh } from '../../../src/shell/sh.ts';
import { loadFleet, sshRun, type BedHost } from '../../bed/fleet.ts';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { cairn } from '../../helpers/cli.ts';
import { makeFactoryUser } from '../../helpers/factory-user.ts';
import { isolated } from './_target.ts';

/**
 * Password login and sudo with a password on the bed's Debian host, as a board in
 * factory state has them: a user with a password, no key, sudo asking for the
 * password (test/helpers/factory-user.ts). sshd's and sudo's own journal lines
 * count the attempts.
 */
const USER = 'cairnpw';
const PASSWORD = `It-pw 'q" $HOME 7`;
const WRONG = 'wrong-It-pw-93';
const rolesDir = fileURLToPath(new URL('../../../inventory/roles/', import.meta.url));

let claim: Claim | undefined;
let host: BedHost;
let restore: (() => Promise<void>) | undefined;

test.before(async () => {
  claim = await claimHosts({ debian: 1 });
  host = claim.hosts[0]!;
  restore = (await makeFactoryUser(host, { user: USER, password: PASSWORD, sudo: 'password', passwordAuth: true })).restore;
});

test.after.always(async () => {
  try {
    if (host) await sshRun(host, `test -e ${KBD_ONLY} && rm -f ${KBD_ONLY} && kill -HUP "$(cat /run/sshd.pid)"; true`);
    await restore?.();
  } finally {
    claim?.release();
  }
});

/** The factory user's connector: no key (a missing identity file), no agent, no ssh_config. */
function factoryConnector(o: { password?: string; becomePassword?: string } = {}): SshConnector {
  const fleet = loadFleet();
  const spec: HostSpec = {
    name: host.name,
    connection: 'ssh',
    address: host.address,
    port: host.port,
    user: USER,
    identity: [join(mkdtempSync(join(tmpdir(), 'cairn-it-nokey-')), 'none')],
    become: o.becomePassword === undefined ? false : 'sudo',
    vars: {},
    groups: [],
    location: { file: 'test' },
  };
  if (o.password !== undefined) spec.password = withOrigin(new Secret(o.password), '!secret_env CAIRN_IT_PASSWORD');
  if (o.becomePassword !== undefined) spec.becomePassword = withOrigin(new Secret(o.becomePassword), '!secret_env CAIRN_IT_BECOME_PASSWORD');
  return new SshConnector(spec, { knownHosts: fleet.knownHosts, connectTimeoutMs: 10_000, commandTimeoutMs: 60_000 }, isolated());
}

/** Journal lines of `tag` since `since` (epoch seconds) that match `re`. */
async function journalCount(tag: string, since: number, re: RegExp): Promise<number> {
  const r = await sshRun(host, `journalctl --no-pager -o cat -t ${tag} --since @${since}`);
  return r.stdout.split('\n').filter((l) => re.test(l)).length;
}

const now = () => Math.floor(Date.now() / 1000) - 1;

test.serial('password login with no key offered: runs as the factory user', async (t) => {
  const c = factoryConnector({ password: PASSWORD });
  try {
    const r = await c.run(sh`id -un`);
    t.is(r.exitCode, 0, r.stderr);
    t.is(r.stdout, `${USER}\n`);
  } finally {
    await c.close();
  }
});

test.serial('a wrong password: a clear error at once, and sshd saw one attempt', async (t) => {
  const since = now();
  const c = factoryConnector({ password: WRONG });
  const started = Date.now();
  try {
    const err = await t.throwsAsync(c.connect(), { instanceOf: UnreachableError });
    t.regex(err!.message, new RegExp(`password login as ${USER}@${host.address.replace(/\./g, '\\.')}:22 was refused .*check the password \\(!secret_env CAIRN_IT_PASSWORD\\)`));
    t.false(err!.message.includes(WRONG));
    await t.throwsAsync(c.run(sh`true`), { message: err!.message });
    t.true(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  } finally {
    await c.close();
  }
  await new Promise((r) => setTimeout(r, 500));
  t.is(await journalCount('sshd', since, new RegExp(`Failed password for ${USER} `)), 1, 'one password attempt reached sshd');
});

const KBD_ONLY = '/etc/ssh/sshd_config.d/04-cairn-it-kbd-only.conf';

test.serial('keyboard-interactive (PAM) when sshd takes no password auth: logs in; a wrong password is one attempt', async (t) => {
  // sorts before 05-factory.conf: sshd takes the first value it reads
  const set = await sshRun(host, `printf 'PasswordAuthentication no\\n' > ${KBD_ONLY} && sshd -t && kill -HUP "$(cat /run/sshd.pid)"`);
  t.is(set.code, 0, set.stderr);
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const c = factoryConnector({ password: PASSWORD });
    try {
      t.is((await c.run(sh`id -un`)).stdout, `${USER}\n`);
    } finally {
      await c.close();
    }
    const since = now();
    const bad = factoryConnector({ password: WRONG });
    try {
      const err = await t.throwsAsync(bad.connect(), { instanceOf: UnreachableError });
      t.regex(err!.message, /was refused \(keyboard-interactive auth, tried once, not again\): check the password/);
    } finally {
      await bad.close();
    }
    await new Promise((r) => setTimeout(r, 500));
    // one PAM check of the password (sshd logs no 'Failed ...' line for keyboard-interactive)
    t.is(await journalCount('sshd', since, new RegExp(`pam_unix\\(sshd:auth\\): authentication failure;.* user=${USER}$`)), 1);
  } finally {
    await sshRun(host, `rm -f ${KBD_ONLY} && kill -HUP "$(cat /run/sshd.pid)"`);
    await new Promise((r) => setTimeout(r, 1000));
  }
});

test.serial('become: sudo with become_password runs as root; stdin still reaches the command', async (t) => {
  const c = factoryConnector({ password: PASSWORD, becomePassword: PASSWORD });
  try {
    const r = await c.run(sh`id -u`);
    t.is(r.exitCode, 0, r.stderr);
    t.is(r.stdout, '0\n');
    t.is((await c.run(sh`cat`, { stdin: 'input line 1\ninput line 2\n' })).stdout, 'input line 1\ninput line 2\n');
    // SFTP is not used with become: the upload goes through cat on stdin, after the password line
    await c.upload('/root/cairn-it-pw', Buffer.from('root file\n'), { mode: 0o600 });
    t.is((await c.run(sh`stat -c '%U %a' /root/cairn-it-pw && cat /root/cairn-it-pw && rm /root/cairn-it-pw`)).stdout, 'root 600\nroot file\n');
    t.is((await c.run(sh`id -un`, { noBecome: true })).stdout, `${USER}\n`);
    // a timed-out root command is killed by a kill that also gets the password
    const slow = await c.run(sh`trap '' HUP TERM; sleep 47.31; echo survived`, { timeoutMs: 1500 });
    t.is(slow.exitCode, 124);
    await new Promise((r) => setTimeout(r, 500));
    t.is((await sshRun(host, `ps -eo args | grep -c '[s]leep 47.31' || true`)).stdout.trim(), '0');
  } finally {
    await c.close();
  }
});

test.serial('a wrong become password: a clear BecomeError, and sudo saw one attempt', async (t) => {
  const since = now();
  const c = factoryConnector({ password: PASSWORD, becomePassword: WRONG });
  try {
    const err = await t.throwsAsync(c.run(sh`id -u`), { instanceOf: BecomeError });
    t.regex(err!.message, new RegExp(`sudo on ${host.name} refused the become password of user ${USER} \\(tried once, not again\\): check the password \\(!secret_env CAIRN_IT_BECOME_PASSWORD\\)`));
    t.false(err!.message.includes(WRONG));
    await t.throwsAsync(c.run(sh`id -u`), { instanceOf: BecomeError });
  } finally {
    await c.close();
  }
  await new Promise((r) => setTimeout(r, 500));
  t.is(await journalCount('sudo', since, /incorrect password attempt/), 1);
  t.is(await journalCount('sudo', since, /1 incorrect password attempt/), 1, 'one try in that one sudo');
});

/** An inventory for the factory user on the bed host: passwords by !secret_env, no key, an empty ssh_config. */
function factoryInventory(): string {
  const fleet = loadFleet();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-it-pw-inv-'));
  symlinkSync(rolesDir, join(dir, 'roles'));
  writeFileSync(join(dir, 'ssh_config'), '');
  const file = join(dir, 'inventory.yml');
  writeFileSync(
    file,
    [
      'connection:',
      `  known_hosts: ${fleet.knownHosts}`,
      '  ssh_config: ./ssh_config',
      'vars: { site_name: password test }',
      'hosts:',
      `  ${host.name}:`,
      `    address: ${host.address}`,
      `    user: ${USER}`,
      '    identity: ./no-such-key',
      '    password: !secret_env CAIRN_IT_PASSWORD',
      '    become: sudo',
      '    become_password: !secret_env CAIRN_IT_BECOME_PASSWORD',
      'groups:',
      `  demo: { hosts: [${host.name}], roles: [motd] }`,
      '',
    ].join('\n'),
  );
  return file;
}

test.serial('cairn check with --json, --log and -v: the passwords appear nowhere', async (t) => {
  const inv = factoryInventory();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-it-pw-log-'));
  const texts: string[] = [];
  const cases: { login: string; become: string; expect: RegExp }[] = [
    { login: PASSWORD, become: PASSWORD, expect: /motd/ },
    { login: PASSWORD, become: WRONG, expect: /refused the become password/ },
    { login: WRONG, become: PASSWORD, expect: /password login as cairnpw@.* was refused/ },
  ];
  for (const [i, c] of cases.entries()) {
    const log = join(dir, `run${i}.log`);
    for (const format of [['--json'], ['-v']]) {
      const r = await cairn(['check', '-i', inv, ...format, '--log', log], { CAIRN_IT_PASSWORD: c.login, CAIRN_IT_BECOME_PASSWORD: c.become, SSH_AUTH_SOCK: '' });
      const all = `${r.stdout}\n${r.stderr}`;
      t.regex(all, c.expect, all);
      if (i > 0 && format[0] === '-v') t.log(all.split('\n').filter((l) => c.expect.test(l)).join('\n'));
      if (i === 0) t.true(r.code === 0 || r.code === 2, all);
      else t.is(r.code, 1, all);
      texts.push(all);
    }
    texts.push(readFileSync(log, 'utf8'));
  }
  for (const text of texts) {
    t.false(text.includes(PASSWORD), `the password is in:\n${text}`);
    t.false(text.includes(WRONG), `the wrong password is in:\n${text}`);
  }
});
