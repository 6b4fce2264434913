#!/bin/sh
# Install what test/agent/build.sh (and verify-rootfs.sh) need on Debian/Ubuntu:
#   gcc + libc6-dev            glibc x86_64 dynamic build
#   musl-tools (musl-gcc)      musl x86_64 static build
#   gcc-aarch64-linux-gnu      aarch64 glibc dynamic build
#   libc6-dev-arm64-cross      aarch64 static build (libc.a) and the cross loader
#   zip                        release zips (python3 zipfile is the fallback)
#   qemu-user-static, binfmt-support   aarch64 checks in verify-rootfs.sh
#                                      (skip with WITH_QEMU=0)
# Does nothing when everything is present.
set -eu

need=""
add() { need="$need $*"; }
command -v gcc >/dev/null 2>&1 || add gcc libc6-dev
command -v musl-gcc >/dev/null 2>&1 || add musl-tools
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || add gcc-aarch64-linux-gnu
[ -f /usr/aarch64-linux-gnu/lib/libc.a ] || add libc6-dev-arm64-cross
command -v zip >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 || add zip
if [ "${WITH_QEMU:-1}" = 1 ]; then
    command -v qemu-aarch64-static >/dev/null 2>&1 || add qemu-user-static
    command -v update-binfmts >/dev/null 2>&1 || add binfmt-support
fi

if [ -z "$need" ]; then
    echo "install-deps: all build dependencies present"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: no apt-get; install by hand:$need" >&2
    exit 1
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "install-deps: installing:$need"
$SUDO apt-get update
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $need
