#!/bin/sh
# Check the stand-in artifacts the way real hosts would treat them, inside
# chroots of the Alpine minirootfs tarballs (busybox ash, musl, no glibc loader):
#   - glibc dynamic nomad on Alpine fails like the real one: "not found", 127
#   - musl/static builds run; zips unpack with busybox unzip and verify with
#     busybox sha256sum -c against the SHA256SUMS file
#   - aarch64 static build runs in the aarch64 Alpine chroot (qemu-user binfmt)
#   - the musl agent serves HTTP from inside the chroot and exits 0 on SIGINT
#   - CNI plugins print "CNI <name> plugin v<ver>" and exit 0 under busybox
#   - the aarch64 glibc build runs against the Debian cross loader (Pi OS path)
# Needs root (chroot). Prints "PASS <check>" / "FAIL <check>: why" lines and
# exits 1 if any check failed.
#
# Usage: sh test/agent/verify-rootfs.sh OUTDIR [ROOTFS_TARBALL_DIR]
#   OUTDIR: output of build.sh (built first if needed)
#   ROOTFS_TARBALL_DIR: default /work/shared/testbed/alpine/minirootfs
# Env: ALPINE_VERSION (3.19.4)
set -eu

[ $# -ge 1 ] || {
    echo "usage: $0 OUTDIR [ROOTFS_TARBALL_DIR]" >&2
    exit 2
}
HERE=$(cd "$(dirname "$0")" && pwd)
sh "$HERE/build.sh" "$1"
OUT=$(cd "$1" && pwd)
TARBALLS=${2:-/work/shared/testbed/alpine/minirootfs}
ALPINE_VERSION=${ALPINE_VERSION:-3.19.4}
NOMAD_VERSION=${NOMAD_VERSION:-1.9.7}
CONSUL_VERSION=${CONSUL_VERSION:-1.20.2}
export LC_ALL=C

[ "$(id -u)" = 0 ] || {
    echo "verify-rootfs.sh: needs root for chroot" >&2
    exit 2
}

FAILS=0
pass() { echo "PASS $1"; }
fail() {
    echo "FAIL $1: $2"
    FAILS=$((FAILS + 1))
}

# extract a minirootfs once into OUT/.rootfs/<name> (cached)
rootfs() { # arch -> prints dir
    name="alpine-minirootfs-$ALPINE_VERSION-$1"
    dir="$OUT/.rootfs/$name"
    if [ ! -x "$dir/bin/busybox" ]; then
        tb="$TARBALLS/$name.tar.gz"
        [ -f "$tb" ] || return 1
        mkdir -p "$OUT/.rootfs"
        (
            if command -v flock >/dev/null 2>&1; then
                exec 8>"$OUT/.rootfs/.lock"
                flock 8
            fi
            if [ ! -x "$dir/bin/busybox" ]; then
                tmp=$(mktemp -d "$OUT/.rootfs/.x.XXXXXX")
                tar -xzf "$tb" -C "$tmp"
                rm -rf "$dir"
                mv "$tmp" "$dir"
            fi
        )
    fi
    echo "$dir"
}

# fresh scratch dir inside the chroot
scratch() { # rootdir -> prints path inside chroot
    rel="/tmp/standin.$$"
    rm -rf "$1$rel"
    mkdir -p "$1$rel"
    echo "$rel"
}

ensure_binfmt_aarch64() {
    [ -d /proc/sys/fs/binfmt_misc ] || return 1
    if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || true
    fi
    if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] && command -v update-binfmts >/dev/null 2>&1; then
        update-binfmts --enable qemu-aarch64 2>/dev/null || true
    fi
    [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || return 1
    grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64
}

# without the F (fix-binary) flag the interpreter must exist inside the chroot
prepare_qemu_in() { # rootdir
    f=/proc/sys/fs/binfmt_misc/qemu-aarch64
    grep -q '^flags:.*F' "$f" && return 0
    interp=$(sed -n 's/^interpreter //p' "$f")
    [ -n "$interp" ] || return 0
    mkdir -p "$1$(dirname "$interp")"
    cp "$interp" "$1$interp"
}

run_in() { # rootdir command... (stdout+stderr -> $RUN_OUT, status -> $RUN_RC)
    r=$1
    shift
    set +e
    RUN_OUT=$(chroot "$r" /bin/sh -c "$*" 2>&1)
    RUN_RC=$?
    set -e
}

check_zip() { # rootdir product version arch suffix expect(ok|notfound) label
    r=$1 p=$2 v=$3 a=$4 sfx=$5 want=$6 label=$7
    zip="${p}_${v}_linux_${a}${sfx}.zip"
    d=$(scratch "$r")
    cp "$OUT/$zip" "$OUT/${p}_${v}_SHA256SUMS" "$r$d/"
    run_in "$r" "cd $d && grep ' $zip\$' ${p}_${v}_SHA256SUMS | sha256sum -c - >/dev/null && unzip -q -o $zip && ls -l $p"
    if [ "$RUN_RC" != 0 ]; then
        fail "$label" "busybox sha256sum/unzip failed: $RUN_OUT"
        return
    fi
    # run it the way an install step would: through the host shell
    run_in "$r" "$d/$p version"
    if [ "$want" = ok ]; then
        title=$(echo "$p" | sed 's/^n/N/; s/^c/C/')
        case $RUN_OUT in
        "$title v$v"*) [ "$RUN_RC" = 0 ] && pass "$label" || fail "$label" "rc=$RUN_RC $RUN_OUT" ;;
        *) fail "$label" "rc=$RUN_RC output: $RUN_OUT" ;;
        esac
    elif [ "$want" = notfound-emu ]; then
        # under qemu-user the missing loader is reported by qemu (rc 255), not
        # by the kernel (ENOENT -> "not found", 127) as on real aarch64 hardware
        case $RUN_OUT in
        *"not found"*) [ "$RUN_RC" = 127 ] && pass "$label (rc=127: $RUN_OUT)" || fail "$label" "rc=$RUN_RC $RUN_OUT" ;;
        *"ld-linux-aarch64.so.1"*) [ "$RUN_RC" != 0 ] && pass "$label (qemu-user: rc=$RUN_RC: $RUN_OUT)" || fail "$label" "rc=$RUN_RC $RUN_OUT" ;;
        *) fail "$label" "expected a missing-loader failure, got rc=$RUN_RC: $RUN_OUT" ;;
        esac
    else
        case $RUN_OUT in
        *"not found"*) [ "$RUN_RC" = 127 ] && pass "$label (rc=127: $RUN_OUT)" || fail "$label" "rc=$RUN_RC $RUN_OUT" ;;
        *) fail "$label" "expected 'not found', got rc=$RUN_RC: $RUN_OUT" ;;
        esac
    fi
    rm -rf "${r:?}$d"
}

check_cni() { # rootdir arch version label
    r=$1 a=$2 v=$3 label=$4
    t="cni-plugins-linux-$a-v$v.tgz"
    d=$(scratch "$r")
    cp "$OUT/$t" "$OUT/$t.sha256" "$r$d/"
    run_in "$r" "cd $d && sha256sum -c $t.sha256 >/dev/null && mkdir bin && tar -xzf $t -C bin && for p in loopback bridge host-local firewall portmap; do ./bin/\$p || exit 9; done"
    want=""
    for p in loopback bridge host-local firewall portmap; do want="${want}CNI $p plugin v$v|"; done
    got=$(printf '%s\n' "$RUN_OUT" | grep '^CNI .* plugin v' | tr '\n' '|')
    if [ "$RUN_RC" = 0 ] && [ "$got" = "$want" ]; then
        pass "$label"
    else
        fail "$label" "rc=$RUN_RC output: $RUN_OUT"
    fi
    rm -rf "${r:?}$d"
}

http_get() { # url
    if command -v curl >/dev/null 2>&1; then
        curl -fsS --max-time 2 "$1"
    else
        wget -q -T 2 -O - "$1"
    fi
}

check_agent_daemon() { # rootdir label
    r=$1 label=$2
    d=$(scratch "$r")
    cp "$OUT/bin/nomad_linux_amd64_musl" "$r$d/nomad"
    mkdir -p "$r$d/etc"
    # pick a port: retry a few times if another process holds it
    attempt=0
    while :; do
        port=$((20000 + ($$ * 7 + attempt * 131) % 10000))
        if ! daemon_try "$r" "$d" "$port" && [ $attempt -lt 5 ]; then
            attempt=$((attempt + 1))
            continue
        fi
        break
    done
    kill -INT "$pid" 2>/dev/null || true
    set +e
    wait "$pid"
    rc=$?
    set -e
    if [ -n "$ok" ] && [ "$rc" = 0 ] && [ -s "$r$d/data/node-id" ] && grep -q 'Caught signal: interrupt' "$r$d/nomad.log"; then
        pass "$label (health: $body)"
    else
        fail "$label" "ok=$ok rc=$rc log: $(tail -5 "$r$d/out.log" 2>/dev/null)"
    fi
    rm -rf "${r:?}$d"
}

# start the agent in the chroot on port; sets pid, ok, body. Returns 1 only
# when the port was taken (so the caller can retry on another one).
daemon_try() { # rootdir scratch port
    r=$1 d=$2 port=$3
    cat >"$r$d/etc/nomad.hcl" <<EOF
data_dir  = "$d/data"
bind_addr = "127.0.0.1"
log_file  = "$d/"
ports { http = $port }
server {
  enabled          = true
  bootstrap_expect = 1
}
EOF
    chroot "$r" "$d/nomad" agent -config="$d/etc" </dev/null >"$r$d/out.log" 2>&1 &
    pid=$!
    ok=""
    i=0
    while [ $i -lt 50 ]; do
        if body=$(http_get "http://127.0.0.1:$port/v1/agent/health" 2>/dev/null); then
            ok=1
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
        i=$((i + 1))
    done
    if [ -z "$ok" ] && grep -q 'address already in use' "$r$d/out.log" 2>/dev/null; then
        wait "$pid" 2>/dev/null || true
        return 1
    fi
    return 0
}

# ------------------------------------------------------------------ x86_64
if R64=$(rootfs x86_64); then
    check_zip "$R64" nomad "$NOMAD_VERSION" amd64 "" notfound "alpine-x86_64: nomad glibc zip fails like the real one"
    check_zip "$R64" nomad "$NOMAD_VERSION" amd64 _musl ok "alpine-x86_64: nomad musl zip runs"
    check_zip "$R64" consul "$CONSUL_VERSION" amd64 "" ok "alpine-x86_64: consul zip (static) runs"
    check_zip "$R64" consul "$CONSUL_VERSION" amd64 _musl ok "alpine-x86_64: consul musl zip runs"
    # direct exec without a shell: the kernel cannot find the ELF interpreter
    cp "$OUT/bin/nomad_linux_amd64_glibc" "$R64/nomad"
    set +e
    msg=$(chroot "$R64" /nomad version 2>&1)
    rc=$?
    set -e
    rm -f "$R64/nomad"
    if [ "$rc" = 127 ]; then pass "alpine-x86_64: chroot /nomad version (glibc) -> 127: $msg"; else fail "alpine-x86_64: chroot /nomad version (glibc)" "rc=$rc $msg"; fi
    check_agent_daemon "$R64" "alpine-x86_64: musl agent serves /v1/agent/health and exits 0 on SIGINT"
    for v in ${CNI_VERSIONS:-1.4.0 1.2.0}; do
        check_cni "$R64" amd64 "$v" "alpine-x86_64: cni v$v plugins report their version (exit 0)"
    done
else
    fail "alpine-x86_64" "no tarball alpine-minirootfs-$ALPINE_VERSION-x86_64.tar.gz in $TARBALLS"
fi

# ------------------------------------------------------------------ aarch64
if ! ensure_binfmt_aarch64; then
    fail "aarch64" "qemu-aarch64 binfmt not available (apt-get install qemu-user-static binfmt-support)"
elif RA=$(rootfs aarch64); then
    prepare_qemu_in "$RA"
    check_zip "$RA" nomad "$NOMAD_VERSION" arm64 _musl ok "alpine-aarch64: nomad arm64 static zip runs (qemu)"
    check_zip "$RA" consul "$CONSUL_VERSION" arm64 "" ok "alpine-aarch64: consul arm64 zip (static) runs (qemu)"
    check_zip "$RA" nomad "$NOMAD_VERSION" arm64 "" notfound-emu "alpine-aarch64: nomad arm64 glibc zip fails like the real one"
    for v in ${CNI_VERSIONS:-1.4.0 1.2.0}; do
        check_cni "$RA" arm64 "$v" "alpine-aarch64: cni v$v plugins report their version (exit 0)"
    done
    # glibc aarch64 build on a glibc system (Raspberry Pi OS path) via the cross loader
    if [ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ]; then
        set +e
        msg=$(QEMU_LD_PREFIX=/usr/aarch64-linux-gnu "$OUT/bin/nomad_linux_arm64_glibc" version 2>&1)
        rc=$?
        set -e
        case $msg in
        "Nomad v$NOMAD_VERSION"*) [ "$rc" = 0 ] && pass "glibc-aarch64: nomad arm64 glibc build runs with the glibc loader" || fail "glibc-aarch64" "rc=$rc $msg" ;;
        *) fail "glibc-aarch64: nomad arm64 glibc build" "rc=$rc $msg" ;;
        esac
    fi
else
    fail "alpine-aarch64" "no tarball alpine-minirootfs-$ALPINE_VERSION-aarch64.tar.gz in $TARBALLS"
fi

echo "verify-rootfs: $FAILS failure(s)"
[ "$FAILS" = 0 ]
