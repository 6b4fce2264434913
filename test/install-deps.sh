#!/usr/bin/env bash
# Installs what cairn's tests and demo need on a fresh Debian 12 machine (run as root).
# Idempotent and quick when everything is already there.
set -euo pipefail
need=()
want() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii' || need+=("$1"); }
# Every tool the test command, the bed, the demo and the bench call, by package (a Recommends
# is never counted on: everything is installed with --no-install-recommends):
#   systemd-container  systemd-nspawn            mmdebstrap + arch-test  Debian roots (arch-test:
#   iproute2           ip (netns, veth, bridge)                       foreign-arch roots, a Recommends)
#   util-linux, mount  unshare nsenter mount      qemu-user-static, binfmt-support  aarch64 hosts
#   bsdutils           script (TTY tests)         procps  pgrep ps     kmod  modprobe overlay
#   openssh-client     ssh ssh-keygen ssh-agent   dpkg-dev  dpkg-scanpackages   xz-utils  xz
#   tar coreutils findutils                       busybox  ash/nc tests on the controller
#   gcc libc6-dev musl-tools gcc-aarch64-linux-gnu libc6-dev-arm64-cross  the stand-in agent
#   zip unzip          release zips              packer  bake test    unbound  dns-query test
#   ca-certificates    mmdebstrap over https mirrors
#   fdisk  sfdisk      dosfstools  mkfs.vfat fsck.vfat    e2fsprogs  mkfs.ext4 e2fsck   (pi-image test:
#   mtools  mtype      fusefat + fuse  fusefat fusermount (FAT without kernel vfat)      a Pi OS disk image)
#   openssl  openssl passwd -6       perl-base  perl (crypt(3) of the C library: the SHA-512-crypt tests)
for p in systemd-container mmdebstrap arch-test qemu-user-static binfmt-support iproute2 \
         util-linux mount bsdutils procps kmod openssh-client tar coreutils findutils \
         musl-tools dpkg-dev gcc libc6-dev gcc-aarch64-linux-gnu libc6-dev-arm64-cross busybox xz-utils \
         zip unzip packer unbound ca-certificates fdisk dosfstools e2fsprogs mtools fusefat fuse \
         openssl perl-base; do want "$p"; done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # no service of an installed package (unbound) may start on the controller
  fresh_policy=no
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; fresh_policy=yes; }
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  [ "$fresh_policy" = no ] || rm -f /usr/sbin/policy-rc.d
fi
# aarch64 binaries (test hosts, chroot bakes) run through qemu-user; F = usable inside containers
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; fi
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
for extra in test/bed/install-deps.sh test/agent/install-deps.sh; do
  [ -f "$extra" ] && bash "$extra"
done
true
