import { sshRun, type BedHost } from '../bed/fleet.ts';

/**
 * A bed host in "factory state": a user that logs in with a password (no key),
 * as a board fresh from the vendor image has. Everything is done over the bed's
 * root key login, which is never touched: the sshd drop-in only turns password
 * logins on (05-factory.conf sorts before cairn-bed.conf, and sshd takes the first
 * value it reads), and restore() removes it again.
 *
 *   const f = await makeFactoryUser(host, { user: 'pi', password: 'raspberry', sudo: 'password', passwordAuth: true });
 *   ...
 *   await f.restore();
 */
export interface FactoryUserOptions {
  user: string;
  password: string;
  /** password: `user ALL=(ALL:ALL) ALL`; nopasswd: `NOPASSWD: ALL`; none: no sudoers rule. */
  sudo: 'password' | 'nopasswd' | 'none';
  /** Turn on PasswordAuthentication and KbdInteractiveAuthentication in sshd (and reload it). */
  passwordAuth: boolean;
}

const SSHD_DROP_IN = '/etc/ssh/sshd_config.d/05-factory.conf';
const sudoersFile = (user: string) => `/etc/sudoers.d/05-factory-${user}`;

/** POSIX single quotes. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

async function root(host: BedHost, script: string, what: string): Promise<string> {
  const r = await sshRun(host, script, { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`factory user on ${host.name}: ${what} failed (exit ${r.code}): ${r.stderr.trim()} ${r.stdout.trim()}`);
  return r.stdout;
}

/** Reload sshd (SIGHUP: it re-executes itself) and wait until root's key login answers again. */
async function reloadSshd(host: BedHost): Promise<void> {
  await root(host, 'sshd -t && kill -HUP "$(cat /run/sshd.pid)"', 'sshd reload');
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const r = await sshRun(host, 'true', { timeoutMs: 10_000 });
    if (r.code === 0) return;
  }
  throw new Error(`factory user on ${host.name}: sshd did not answer root's key login after the reload`);
}

export async function makeFactoryUser(host: BedHost, o: FactoryUserOptions): Promise<{ restore(): Promise<void> }> {
  if (!/^[a-z_][a-z0-9_-]*$/.test(o.user) || o.user === 'root') throw new Error(`factory user: '${o.user}' is not a user name this helper creates`);
  const rule = o.sudo === 'password' ? `${o.user} ALL=(ALL:ALL) ALL` : o.sudo === 'nopasswd' ? `${o.user} ALL=(ALL:ALL) NOPASSWD: ALL` : undefined;
  const restore = async (): Promise<void> => {
    const hadDropIn = (await root(host, `test -e ${SSHD_DROP_IN} && echo yes || true`, 'look for the sshd drop-in')).trim() === 'yes';
    await root(
      host,
      `pkill -KILL -u ${q(o.user)} 2>/dev/null; sleep 0.2; userdel -r ${q(o.user)} 2>/dev/null; rm -f ${sudoersFile(o.user)} ${SSHD_DROP_IN}; ! id ${q(o.user)} >/dev/null 2>&1`,
      'remove the user',
    );
    if (hadDropIn) await reloadSshd(host);
  };
  try {
    await root(
      host,
      [
        `id ${q(o.user)} >/dev/null 2>&1 || useradd -m -s /bin/bash ${q(o.user)}`,
        `printf '%s:%s\\n' ${q(o.user)} ${q(o.password)} | chpasswd`,
        `rm -f ${sudoersFile(o.user)}`,
        ...(rule ? [`printf '%s\\n' ${q(rule)} > ${sudoersFile(o.user)}.tmp && chmod 440 ${sudoersFile(o.user)}.tmp && visudo -cqf ${sudoersFile(o.user)}.tmp && mv ${sudoersFile(o.user)}.tmp ${sudoersFile(o.user)}`] : []),
      ].join(' && '),
      'create the user',
    );
    if (o.passwordAuth) {
      await root(host, `printf '%s\\n' '# factory state (test/helpers/factory-user.ts)' 'PasswordAuthentication yes' 'KbdInteractiveAuthentication yes' > ${SSHD_DROP_IN}`, 'write the sshd drop-in');
      await reloadSshd(host);
    }
  } catch (err) {
    await restore().catch(() => undefined);
    throw err;
  }
  return { restore };
}
