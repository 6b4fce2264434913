#!/usr/bin/env bash
# Installs what the cairn test bed (npm run bed -- up) needs on Debian 12, as root.
# Idempotent and quick when everything is there. Called by test/install-deps.sh.
set -euo pipefail

need=()
for p in systemd-container mmdebstrap arch-test qemu-user-static binfmt-support iproute2 util-linux mount kmod \
         openssh-client dpkg-dev xz-utils tar; do
  dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "test bed: installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# overlayfs: one read-only lower root per host kind, one upper per host
grep -qw overlay /proc/filesystems || modprobe overlay || { echo "test bed: no overlayfs in this kernel" >&2; exit 1; }

# aarch64 hosts run under qemu-user through binfmt_misc; flag F (interpreter opened at
# registration) makes it work inside containers, whose roots have no qemu binary.
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
if ! grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null; then
  update-binfmts --enable qemu-aarch64
fi
if ! grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64; then
  echo "test bed: binfmt qemu-aarch64 is registered without flag F: aarch64 containers cannot start" >&2
  echo "          (Debian's qemu-user-static registers it with F; re-register: update-binfmts --disable/--enable qemu-aarch64)" >&2
  exit 1
fi
# all containers run as the controller's root user: their inotify instances share one
# per-user limit (default 128 stalls the ~10th systemd container); raise, never lower
for kv in max_user_instances=8192 max_user_watches=524288; do
  k=${kv%=*} v=${kv#*=}
  [ "$(cat /proc/sys/fs/inotify/$k)" -ge "$v" ] || echo "$v" > /proc/sys/fs/inotify/$k
done
true
