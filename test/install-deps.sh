#!/usr/bin/env bash
# Installs what cairn's tests and demo need on a fresh Debian 12 machine (run as root).
# Idempotent and quick when everything is already there.
set -euo pipefail
need=()
want() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null | grep -q '^ii' || need+=("$1"); }
for p in systemd-container mmdebstrap qemu-user-static binfmt-support iproute2 openssh-client \
         musl-tools dpkg-dev gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross busybox xz-utils \
         zip unzip packer ca-certificates; do want "$p"; done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# aarch64 binaries (test hosts, chroot bakes) run through qemu-user; F = usable inside containers
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; fi
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
for extra in test/bed/install-deps.sh test/agent/install-deps.sh; do
  [ -f "$extra" ] && bash "$extra"
done
true
