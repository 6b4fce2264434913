/**
 * What makes the test bed's Debian 12 arm64 root stand in for a Raspberry Pi OS
 * Bookworm image, and what is EMULATED because the Debian root has no
 * Raspberry Pi packages:
 *
 *  - the first user: pi-gen makes `pi` (uid 1000, no password) and arms userconf-pi's
 *    rename; the bed root's uid-1000 user `tester` becomes that `pi` here (its
 *    sudo rule and authorized_keys removed: the image carries no key of anyone);
 *  - userconf-pi's first boot (userconf-service + userconf, RPi-Distro/userconf-pi):
 *    a stand-in unit of the same name runs a script doing what their
 *    non-interactive branch does: read the first line `user:HASH` of
 *    /boot/firmware/userconf.txt, rename the uid-1000 user and its group to `user`
 *    (usermod -l, usermod -m -d /home/user, groupmod -n), set HASH with
 *    `chpasswd -e`, delete the file, disable itself (cancel-rename);
 *  - raspberrypi-sys-mods' sshswitch (the `ssh` file enables sshd): not emulated,
 *    the bed root has sshd enabled already; the test checks the file is there;
 *  - the kernel command line: a container boots with the host's kernel, so
 *    cmdline.txt is checked as a file, never by a boot.
 */
import { chownSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIRST_UID = 1000;

export const USERCONF_STANDIN = `#!/bin/sh -e
# cairn test stand-in for Raspberry Pi OS's userconf-pi first boot (userconf-service,
# userconf, cancel-rename: their non-interactive path). Not Raspberry Pi code.
FWLOC=/boot/firmware
for f in "$FWLOC/userconf" "$FWLOC/userconf.txt"; do
    [ -f "$f" ] || continue
    LINE="$(head -n1 "$f" | tr -d '\\r')"
    NEW_USER="$(echo "$LINE" | cut -f1 -d:)"
    NEW_PASS="$(echo "$LINE" | cut -f2 -d:)"
    FIRSTUSER="$(getent passwd ${FIRST_UID} | cut -d: -f1)"
    FIRSTGROUP="$(getent group ${FIRST_UID} | cut -d: -f1)"
    if [ -n "$NEW_USER" ] && [ -n "$NEW_PASS" ]; then
        if [ "$FIRSTUSER" != "$NEW_USER" ]; then
            usermod -l "$NEW_USER" "$FIRSTUSER"
            usermod -m -d "/home/$NEW_USER" "$NEW_USER"
            groupmod -n "$NEW_USER" "$FIRSTGROUP"
        fi
        echo "$NEW_USER:$NEW_PASS" | chpasswd -e
        rm "$f"
        sync
    fi
    break
done
systemctl --quiet disable userconfig.service
`;

export const USERCONF_UNIT = `# cairn test stand-in for userconf-pi's userconfig.service (see the script)
[Unit]
Description=User configuration (cairn test stand-in for userconf-pi)
After=systemd-user-sessions.service

[Service]
Type=oneshot
ExecStart=/usr/lib/userconf-pi/userconf-service

[Install]
WantedBy=multi-user.target
`;

/** Rewrite the `from` entries of a colon file (passwd, shadow, group) as `to`'s. */
function renameEntry(root: string, file: string, from: string, edit: (fields: string[]) => string[]): void {
  const p = join(root, file);
  if (!existsSync(p)) return;
  const lines = readFileSync(p, 'utf8').split('\n').map((l) => (l.startsWith(`${from}:`) ? edit(l.split(':')).join(':') : l));
  writeFileSync(p, lines.join('\n'));
}

/** Turn the bed's Debian root (mounted at `root`) into the Pi OS stand-in described above. */
export function makePiOsLike(root: string, bedUser = 'tester'): void {
  renameEntry(root, 'etc/passwd', bedUser, (f) => ['pi', f[1]!, f[2]!, f[3]!, '', '/home/pi', '/bin/bash']);
  renameEntry(root, 'etc/shadow', bedUser, (f) => ['pi', '*', ...f.slice(2)]);
  renameEntry(root, 'etc/group', bedUser, (f) => ['pi', ...f.slice(1)]);
  renameEntry(root, 'etc/gshadow', bedUser, (f) => ['pi', ...f.slice(1)]);
  rmSync(join(root, 'etc/sudoers.d/cairn-bed-tester'), { force: true });
  const home = join(root, 'home', bedUser);
  if (existsSync(home)) renameSync(home, join(root, 'home/pi'));
  rmSync(join(root, 'home/pi/.ssh'), { recursive: true, force: true });
  mkdirSync(join(root, 'home/pi'), { recursive: true });
  chownSync(join(root, 'home/pi'), FIRST_UID, FIRST_UID);

  mkdirSync(join(root, 'usr/lib/userconf-pi'), { recursive: true });
  writeFileSync(join(root, 'usr/lib/userconf-pi/userconf-service'), USERCONF_STANDIN, { mode: 0o755 });
  writeFileSync(join(root, 'etc/systemd/system/userconfig.service'), USERCONF_UNIT, { mode: 0o644 });
  const want = join(root, 'etc/systemd/system/multi-user.target.wants/userconfig.service');
  rmSync(want, { force: true });
  symlinkSync('/etc/systemd/system/userconfig.service', want);
  // Raspberry Pi OS: /etc/hosts with the image's name on 127.0.1.1
  writeFileSync(join(root, 'etc/hosts'), '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n\n127.0.1.1\t\traspberrypi\n');
  writeFileSync(join(root, 'etc/hostname'), 'raspberrypi\n');
}

/** A Pi OS-like cmdline.txt: one line, root on partition 2. */
export function piCmdline(partuuid: string): string {
  return `console=serial0,115200 console=tty1 root=PARTUUID=${partuuid}-02 rootfstype=ext4 fsck.repair=yes rootwait quiet\n`;
}
