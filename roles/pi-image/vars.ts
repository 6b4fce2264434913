// The pi-image role's vars and their checks (all problems at once, before any connection).
import { boolean, isSecret, stringList, type VarProblem, type Vars } from 'cairn-provision';

export interface PiImageVars {
  /** The login user Raspberry Pi OS creates at first boot (userconf.txt). */
  pi_user: string;
  /** Its password: a Secret (`!secret_env NAME`); only its SHA-512-crypt hash is written. */
  pi_password: unknown;
  /** Public key lines (`ssh-ed25519 AAAA... comment`) that may log in as pi_user. */
  pi_authorized_keys: string[];
  /** The board's host name (/etc/hostname, /etc/hosts 127.0.1.1); empty: the inventory name. */
  pi_hostname: string;
  /** Where the boot (FAT) partition is mounted inside the root: /boot/firmware (Bookworm), /boot (Bullseye). */
  pi_boot_dir: string;
  /** Tokens appended once to the one line of cmdline.txt. */
  pi_cmdline_add: string[];
  /** Write the empty `ssh` file: sshd is enabled at first boot. */
  pi_ssh: boolean;
}

export const DEFAULTS: Partial<PiImageVars> = {
  pi_hostname: '',
  pi_boot_dir: '/boot/firmware',
  pi_cmdline_add: ['cgroup_enable=memory', 'cgroup_memory=1'],
  pi_ssh: true,
};

/** userconf-service's own rule (userconf-pi: validate_user): a lower-case letter, then letters, digits, hyphens; at most 32; not root. */
export const PI_USER = /^[a-z][a-z0-9-]{0,31}$/;
/** One RFC 1123 label: what /etc/hostname and avahi take. */
export const HOSTNAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** A public key line: optional options without spaces, a key type, base64, an optional comment. */
export const KEY_LINE = /^(?:\S+ )?(?:ssh-(?:ed25519|rsa|dss)|ecdsa-sha2-nistp(?:256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}(?: [^\r\n]*)?$/;
const TOKEN = /^[!#-&(-~]+$/;

/** The host name the role writes: pi_hostname, else the inventory name. */
export function hostnameOf(vars: Vars, inventoryName: string): string {
  return typeof vars.pi_hostname === 'string' && vars.pi_hostname !== '' ? vars.pi_hostname : inventoryName;
}

export function piImageVarProblems(vars: Vars, inventoryName: string): VarProblem[] {
  const out: VarProblem[] = [];
  const user = vars.pi_user;
  if (typeof user !== 'string' || !PI_USER.test(user) || user === 'root') {
    out.push({ var: 'pi_user', message: `must be a user name (a lower-case letter, then lower-case letters, digits or -, at most 32; not root), got ${JSON.stringify(user)}`, fix: 'e.g. pi_user: ops' });
  }
  const pw = vars.pi_password;
  if (!isSecret(pw)) {
    const what = pw === undefined ? 'is not set' : 'must be a secret, not plain text in the inventory';
    out.push({ var: 'pi_password', message: what, fix: 'pi_password: !secret_env PI_PASSWORD (and export PI_PASSWORD before the run)' });
  } else if (pw.reveal() === '') {
    out.push({ var: 'pi_password', message: 'is empty (Raspberry Pi OS refuses an empty password and asks on the console instead)', fix: 'give a password' });
  }
  out.push(...stringList('pi_authorized_keys', vars.pi_authorized_keys, KEY_LINE, "['ssh-ed25519 AAAAC3Nza... me@laptop']"));
  const host = hostnameOf(vars, inventoryName);
  if (typeof vars.pi_hostname !== 'string') out.push({ var: 'pi_hostname', message: `must be a string, got ${JSON.stringify(vars.pi_hostname)}`, fix: 'e.g. pi_hostname: rpi1' });
  else if (!HOSTNAME.test(host)) {
    const why = vars.pi_hostname === '' ? `is empty and the inventory name ${JSON.stringify(inventoryName)} is not a host name` : `is not a host name: ${JSON.stringify(host)}`;
    out.push({ var: 'pi_hostname', message: `${why} (letters, digits and -, at most 63, not starting or ending with -)`, fix: 'e.g. pi_hostname: rpi1' });
  }
  const boot = vars.pi_boot_dir;
  if (typeof boot !== 'string' || !/^\/[^\0]*[^/]$/.test(boot) || boot.split('/').some((p) => p === '.' || p === '..')) {
    out.push({ var: 'pi_boot_dir', message: `must be an absolute path, got ${JSON.stringify(boot)}`, fix: 'pi_boot_dir: /boot/firmware (Bookworm) or /boot (Bullseye)' });
  }
  out.push(...stringList('pi_cmdline_add', vars.pi_cmdline_add, TOKEN, '[cgroup_enable=memory, cgroup_memory=1]', { allowEmpty: true }));
  out.push(...boolean('pi_ssh', vars.pi_ssh));
  return out;
}
