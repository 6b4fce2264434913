// Built-in role `enroll`: takes a fresh board from its factory login to the normal
// key-based state: an admin user with the operator's keys and passwordless sudo
// (Debian / Pi OS) or doas (Alpine), the hostname, then sshd locked to key logins.
// The hostname and sshd are changed with a dead-man switch (guardedFiles): the host
// restores them by itself unless a NEW login with the inventory's settings works.
// `cairn enroll` runs this role, logging in with the factory password when the
// inventory's key does not work yet. Vars and behaviour: docs/enroll.md.
import { readFileSync } from 'node:fs';
import {
  checkVars,
  checkedFile,
  command,
  defineRole,
  directory,
  guardedFiles,
  isSecret,
  isStringList,
  line,
  oneOf,
  packages,
  sh,
  user,
  type ApplyRuntime,
  type HostSpec,
  type Operation,
  type VarProblem,
  type Vars,
} from 'cairn-provision';

export const DEFAULTS = {
  /** The admin user cairn logs in as from now on; '' = the inventory's user of the host (root when none). */
  enroll_admin_user: '',
  /** Public key lines for the admin user; [] = the .pub files of the host's inventory identities. */
  enroll_authorized_keys: [] as string[],
  /** The hostname to set; '' = the inventory name of the host (when it is a valid hostname); false: leave it. */
  enroll_hostname: '' as string | false,
  /** sshd PermitRootLogin: prohibit-password (keys only) or no. */
  enroll_sshd_permit_root_login: 'prohibit-password',
  /** sshd Port; 0: not managed. Change the inventory's port with it, or the fresh login fails and the host rolls back. */
  enroll_sshd_port: 0,
  /** More sshd_config lines for the drop-in (e.g. 'AllowUsers ops'). */
  enroll_sshd_extra: [] as string[],
  /** The host restores the hostname / sshd settings this long after a switch unless cairn confirmed it. */
  enroll_rollback_seconds: 60,
  /** The factory login `cairn enroll` uses while the key does not work yet: user ('' = the admin user) ... */
  enroll_user: '',
  /** ... and its password (a !secret_env; or --ask-pass). Also used for sudo on that login. */
  enroll_password: '' as unknown,
};

export type EnrollVars = typeof DEFAULTS;

const ACCOUNT = /^[a-z_][a-z0-9_-]{0,31}$/;
const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const PUBKEY = /^(ssh-(ed25519|rsa|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/=]+( .*)?$/;
const SSHD_LINE = /^[A-Za-z][A-Za-z0-9]*\s+[^\n\r]+$/;
/** Where the enroll drop-in goes: first in name order, since sshd takes the FIRST value of a keyword. */
export const SSHD_DROPIN = '/etc/ssh/sshd_config.d/00-cairn.conf';
const STATE = '/var/lib/cairn/enroll';

/** The admin user of a host: the var, else the inventory's user, else root. */
export function adminUser(vars: Vars, host: HostSpec): string {
  return typeof vars.enroll_admin_user === 'string' && vars.enroll_admin_user ? vars.enroll_admin_user : (host.user ?? 'root');
}

/** The public key lines: the var, else the hosts' identity files' .pub. */
export function authorizedKeys(vars: Vars, host: HostSpec): string[] {
  if (isStringList(vars.enroll_authorized_keys) && vars.enroll_authorized_keys.length) return vars.enroll_authorized_keys.map((k) => k.trim());
  const out: string[] = [];
  for (const id of host.identity ?? []) {
    try {
      out.push(readFileSync(`${id}.pub`, 'utf8').trim());
    } catch {
      /* no .pub next to this key */
    }
  }
  return out;
}

/** The hostname to set, or undefined to leave it. */
export function wantedHostname(vars: Vars, host: HostSpec): string | undefined {
  if (vars.enroll_hostname === false) return undefined;
  if (typeof vars.enroll_hostname === 'string' && vars.enroll_hostname) return vars.enroll_hostname;
  return HOSTNAME.test(host.name) ? host.name : undefined;
}

export function enrollVarProblems(vars: Vars, host: HostSpec): VarProblem[] {
  const out: VarProblem[] = [];
  const admin = adminUser(vars, host);
  if (!ACCOUNT.test(admin)) out.push({ var: 'enroll_admin_user', message: `must be a user name, got ${JSON.stringify(admin)}`, fix: 'e.g. enroll_admin_user: ops' });
  if (!isStringList(vars.enroll_authorized_keys)) out.push({ var: 'enroll_authorized_keys', message: `must be a list of public key lines, got ${JSON.stringify(vars.enroll_authorized_keys)}`, fix: "e.g. enroll_authorized_keys: ['ssh-ed25519 AAAA... me@laptop']" });
  else {
    const keys = authorizedKeys(vars, host);
    if (keys.length === 0) out.push({ var: 'enroll_authorized_keys', message: `is empty and no identity of host ${host.name} has a .pub file next to it: enroll would lock the admin user out`, fix: "list the public keys, e.g. enroll_authorized_keys: ['ssh-ed25519 AAAA... me@laptop']" });
    const bad = keys.filter((k) => !PUBKEY.test(k));
    if (bad.length) out.push({ var: 'enroll_authorized_keys', message: `has lines that are not OpenSSH public keys: ${bad.map((b) => JSON.stringify(b.slice(0, 40))).join(', ')}`, fix: 'one key per entry, as in ~/.ssh/id_ed25519.pub' });
  }
  if (vars.enroll_hostname !== false && (typeof vars.enroll_hostname !== 'string' || (vars.enroll_hostname !== '' && !HOSTNAME.test(vars.enroll_hostname)))) {
    out.push({ var: 'enroll_hostname', message: `must be a hostname, '' (the inventory name) or false, got ${JSON.stringify(vars.enroll_hostname)}`, fix: 'e.g. enroll_hostname: pi-node-1' });
  }
  out.push(...oneOf('enroll_sshd_permit_root_login', vars.enroll_sshd_permit_root_login, ['prohibit-password', 'no']));
  if (vars.enroll_sshd_permit_root_login === 'no' && admin === 'root') out.push({ var: 'enroll_sshd_permit_root_login', message: 'is no, but the admin user is root: cairn could not log in again', fix: 'set enroll_admin_user (e.g. ops) or keep prohibit-password' });
  const p = vars.enroll_sshd_port;
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) out.push({ var: 'enroll_sshd_port', message: `must be a port number (0: not managed), got ${JSON.stringify(p)}`, fix: 'e.g. enroll_sshd_port: 22' });
  if (!isStringList(vars.enroll_sshd_extra) || vars.enroll_sshd_extra.some((l) => !SSHD_LINE.test(l))) out.push({ var: 'enroll_sshd_extra', message: `must be a list of sshd_config lines ("Keyword value"), got ${JSON.stringify(vars.enroll_sshd_extra)}`, fix: "e.g. enroll_sshd_extra: ['AllowUsers ops']" });
  const s = vars.enroll_rollback_seconds;
  if (typeof s !== 'number' || !Number.isInteger(s) || s < 5 || s > 3600) out.push({ var: 'enroll_rollback_seconds', message: `must be an integer from 5 to 3600, got ${JSON.stringify(s)}`, fix: 'e.g. enroll_rollback_seconds: 60' });
  if (vars.enroll_password !== '' && !isSecret(vars.enroll_password)) out.push({ var: 'enroll_password', message: 'must be a secret, never plain text in the inventory', fix: 'enroll_password: !secret_env CAIRN_FACTORY_PASSWORD (or leave it out and pass --ask-pass)' });
  if (typeof vars.enroll_user !== 'string' || (vars.enroll_user !== '' && !ACCOUNT.test(vars.enroll_user))) out.push({ var: 'enroll_user', message: `must be a user name or '', got ${JSON.stringify(vars.enroll_user)}`, fix: 'e.g. enroll_user: pi' });
  return out;
}

/** The sshd drop-in: key logins only. */
export function sshdDropin(v: EnrollVars): string {
  return [
    '# managed by cairn (enroll role): logins with keys only; do not edit, changes are overwritten',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    `PermitRootLogin ${v.enroll_sshd_permit_root_login}`,
    ...(v.enroll_sshd_port ? [`Port ${v.enroll_sshd_port}`] : []),
    ...v.enroll_sshd_extra,
    '',
  ].join('\n');
}

/** /etc/hosts with the 127.0.1.1 line naming the host (Debian's convention), other lines kept. */
export function hostsWith(before: string | undefined, name: string): string {
  const short = name.split('.')[0]!;
  const want = `127.0.1.1\t${name === short ? name : `${name} ${short}`}`;
  const lines = (before ?? '127.0.0.1\tlocalhost\n').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const i = lines.findIndex((l) => /^127\.0\.1\.1\s/.test(l));
  const kept = lines.filter((l, j) => j === i || !/^127\.0\.1\.1\s/.test(l));
  if (i < 0) kept.push(want);
  else kept[kept.indexOf(lines[i]!)] = want;
  return `${kept.join('\n')}\n`;
}

/** After the sshd switch: what sshd itself now takes as its settings (sshd -T), each wrong one a sentence. */
function sshdTakes(v: EnrollVars): (rt: ApplyRuntime) => Promise<string[]> {
  const want: [string, string[]][] = [
    ['passwordauthentication', ['no']],
    ['kbdinteractiveauthentication', ['no']],
    // sshd -T prints prohibit-password by its old name
    ['permitrootlogin', v.enroll_sshd_permit_root_login === 'no' ? ['no'] : ['prohibit-password', 'without-password']],
  ];
  return async (rt) => {
    const r = await rt.run(sh`/usr/sbin/sshd -T 2>&1`);
    if (r.exitCode !== 0) return [`sshd -T fails after the switch: ${r.stdout.trim().split('\n').slice(-3).join(' ')}`];
    const got = new Map(r.stdout.split('\n').map((l) => l.trim().split(/\s+/)).map(([k, ...rest]) => [k?.toLowerCase() ?? '', rest.join(' ')]));
    const out: string[] = [];
    for (const [k, ok] of want) {
      const have = got.get(k);
      if (have !== undefined && !ok.includes(have)) {
        const who = await rt.run(sh`grep -il ${`^[[:space:]]*${k}[[:space:]]`} /etc/ssh/sshd_config /etc/ssh/sshd_config.d/*.conf 2>/dev/null || :`);
        const files = who.stdout.trim().split('\n').filter(Boolean).filter((f) => f !== SSHD_DROPIN);
        out.push(`sshd still takes ${k} ${have} after the switch (sshd uses the first value it reads${files.length ? `; also set in ${files.join(', ')}` : `; does /etc/ssh/sshd_config Include /etc/ssh/sshd_config.d/*.conf before its own settings?`})`);
      }
    }
    return out;
  };
}

const RELOAD_SSHD = sh`if [ -s /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; then kill -HUP "$(cat /run/sshd.pid)"
elif command -v systemctl >/dev/null 2>&1; then systemctl reload ssh 2>/dev/null || systemctl reload sshd
elif command -v rc-service >/dev/null 2>&1; then rc-service sshd reload
else echo 'sshd is not running (no /run/sshd.pid) and no init to reload it' >&2; exit 1; fi`;

export default defineRole<EnrollVars>({
  name: 'enroll',
  description: 'factory login -> admin user with keys and sudo/doas, hostname, sshd keys only; hostname and sshd changed with a host-side rollback',
  defaults: DEFAULTS,
  validate: (ctx) => checkVars('enroll', ctx, (vars, host) => enrollVarProblems(vars, host)),
  steps(ctx) {
    const v = ctx.vars as EnrollVars;
    const alpine = ctx.facts.os.family === 'alpine';
    const admin = adminUser(v, ctx.host);
    const home = admin === 'root' ? '/root' : `/home/${admin}`;
    const steps: Operation[] = [];
    if (admin !== 'root') {
      steps.push(
        packages({ id: 'become-tool', names: [alpine ? 'doas' : 'sudo'], state: 'present' }),
        user({ id: 'admin-user', name: admin, groups: [alpine ? 'wheel' : 'sudo'], shell: alpine ? '/bin/sh' : '/bin/bash', home }),
        // a new account's password is '!' (locked): sshd without PAM (Alpine) then refuses even
        // its keys. '*' is no password and not locked; a password the account has is kept.
        command({
          id: 'admin-not-locked',
          // probed before the user step runs: an account not there yet needs it too
          unless: sh`pw=$(awk -F: -v u=${admin} '$1 == u { print $2; f = 1 } END { if (!f) print "none" }' /etc/shadow) && [ "$pw" != none ] && [ "$pw" != '!' ] && [ "$pw" != '!!' ]`,
          run: sh`printf '%s:*\n' ${admin} | chpasswd -e`,
        }),
        alpine
          ? checkedFile({ id: 'doas-rule', path: `/etc/doas.d/cairn-${admin}.conf`, mode: '0600', content: `# managed by cairn (enroll role)\npermit nopass ${admin} as root\n`, validate: (tmp) => sh`doas -C ${tmp}` })
          : checkedFile({ id: 'sudo-rule', path: `/etc/sudoers.d/cairn-${admin}`, mode: '0440', content: `# managed by cairn (enroll role)\n${admin} ALL=(ALL:ALL) NOPASSWD: ALL\n`, validate: (tmp) => sh`visudo -cf ${tmp}` }),
      );
    }
    steps.push(directory({ id: 'ssh-dir', path: `${home}/.ssh`, mode: '0700', owner: admin, group: admin === 'root' ? 'root' : admin }));
    for (const [i, key] of authorizedKeys(v, ctx.host).entries()) {
      steps.push(line({ id: `authorized-key-${i + 1}`, path: `${home}/.ssh/authorized_keys`, line: key, create: true, mode: '0600', owner: admin, group: admin === 'root' ? 'root' : admin }));
    }
    const name = wantedHostname(v, ctx.host);
    if (name) {
      steps.push(
        guardedFiles({
          id: 'hostname',
          what: `the hostname (${name})`,
          files: [
            { path: '/etc/hostname', content: `${name}\n` },
            { path: '/etc/hosts', content: (before) => hostsWith(before, name) },
          ],
          stateDir: `${STATE}/hostname`,
          rollbackSeconds: v.enroll_rollback_seconds,
          activate: sh`hostname -F /etc/hostname 2>/dev/null || hostname "$(cat /etc/hostname)"`,
          checks: async (rt) => {
            const r = await rt.run(sh`hostname`);
            return r.stdout.trim() === name ? [] : [`the hostname is ${JSON.stringify(r.stdout.trim())} after the switch, not ${name}`];
          },
          timerName: 'cairn-hostname-rollback',
        }),
      );
    }
    steps.push(
      directory({ id: 'sshd-config-d', path: '/etc/ssh/sshd_config.d', mode: '0755' }),
      guardedFiles({
        id: 'sshd',
        what: "sshd's settings (keys only)",
        files: [{ path: SSHD_DROPIN, content: sshdDropin(v) }],
        stateDir: `${STATE}/sshd`,
        rollbackSeconds: v.enroll_rollback_seconds,
        validate: sh`/usr/sbin/sshd -t`,
        activate: RELOAD_SSHD,
        checks: sshdTakes(v),
        timerName: 'cairn-sshd-rollback',
      }),
    );
    return steps;
  },
});

