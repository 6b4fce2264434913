/**
 * What a baked image needs at its first boot to make the identity the cleanup
 * removed. Alpine's sshd init script runs `ssh-keygen -A` itself; Debian and
 * Raspberry Pi OS sshd units refuse to start without host keys, so systemd hosts
 * get this oneshot unit (ssh-keygen -A only creates keys that are missing, so it
 * costs nothing on later boots). machine-id: systemd fills an empty
 * /etc/machine-id at first boot; Nomad and Consul make new node ids on start.
 */
export const SSH_KEYGEN_UNIT_NAME = 'cairn-ssh-host-keys.service';

export const SSH_KEYGEN_UNIT = `# written by cairn (bake-cleanup): the image carries no SSH host keys,
# this makes the host's own before sshd starts
[Unit]
Description=Generate missing SSH host keys (cairn image)
ConditionPathExists=/usr/bin/ssh-keygen
Before=ssh.service sshd.service ssh.socket
After=local-fs.target

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
`;
