// Built-in role `pi-image`: prepares a Raspberry Pi OS (Bookworm) image or SD card,
// reached through the chroot connector with its boot partition mounted at
// <root>/boot/firmware, so the board comes up headless and reachable:
// userconf.txt (the first user and its password hash), the `ssh` file, the
// operator's SSH keys, the host name, and the cgroup flags on cmdline.txt.
// Vars, the first-boot sequence and the recipe: docs/pi-image.md.
import { bootFile, checkVars, defineRole, directory, file, kernelCmdline, line, type Operation, type Secret } from 'cairn-provision';
import { bootPartitionMounted } from './boot-partition.ts';
import { userconfAccepts, userconfContent } from './userconf.ts';
import { DEFAULTS, hostnameOf, piImageVarProblems, type PiImageVars } from './vars.ts';

/** Keys of a user live here, root-owned, read by sshd through the drop-in below. */
export const KEYS_DIR = '/etc/ssh/authorized_keys.d';
export const SSHD_DROP_IN = '/etc/ssh/sshd_config.d/10-cairn-pi-image.conf';

/**
 * The user does not exist in the image yet (Raspberry Pi OS renames its first
 * user at first boot, moving its home): the keys cannot go to a home directory
 * that is named and owned only later, so sshd reads them from /etc as well.
 * Debian's sshd_config includes sshd_config.d/*.conf first; the first value wins.
 */
export const SSHD_CONFIG = `# cairn pi-image: the login user is created at first boot, so its keys live in
# ${KEYS_DIR}/<user> (root-owned) as well as in the home directory
AuthorizedKeysFile .ssh/authorized_keys .ssh/authorized_keys2 ${KEYS_DIR}/%u
`;

export default defineRole<PiImageVars>({
  name: 'pi-image',
  description: 'Raspberry Pi OS image: first user (userconf.txt), ssh enabled, SSH keys, host name, cgroup flags on cmdline.txt',
  defaults: DEFAULTS,
  validate: (ctx) => checkVars('pi-image', ctx, (vars, host) => piImageVarProblems(vars, host.name)),
  steps(ctx) {
    const v = ctx.vars;
    const boot = v.pi_boot_dir;
    const user = v.pi_user;
    const password = v.pi_password as Secret;
    const hostname = hostnameOf(v, ctx.host.name);
    const steps: Operation[] = [
      bootPartitionMounted('boot-partition', boot),
      // a fresh salt every run, but an existing line that verifies is kept: a second run changes nothing;
      // no backup: an old hash must not stay on the card
      bootFile({ id: 'userconf', path: `${boot}/userconf.txt`, content: userconfContent(user, password), accept: (text) => userconfAccepts(text, user, password), backup: false }),
    ];
    if (v.pi_ssh) steps.push(bootFile({ id: 'ssh', path: `${boot}/ssh`, content: '' }));
    if (v.pi_cmdline_add.length) steps.push(kernelCmdline({ id: 'cmdline', path: `${boot}/cmdline.txt`, add: v.pi_cmdline_add }));
    steps.push(
      directory({ id: 'authorized-keys-dir', path: KEYS_DIR, mode: '0755', owner: 'root', group: 'root' }),
      file({ id: 'authorized-keys', path: `${KEYS_DIR}/${user}`, content: v.pi_authorized_keys.map((k) => `${k.trim()}\n`).join(''), mode: '0644', owner: 'root', group: 'root' }),
      file({ id: 'sshd-authorized-keys', path: SSHD_DROP_IN, content: SSHD_CONFIG, mode: '0644', owner: 'root', group: 'root' }),
      file({ id: 'hostname', path: '/etc/hostname', content: `${hostname}\n`, mode: '0644' }),
      line({ id: 'hosts', path: '/etc/hosts', line: `127.0.1.1\t${hostname}`, regexp: '^127\\.0\\.1\\.1\\s', create: true, mode: '0644' }),
    );
    return steps;
  },
});
