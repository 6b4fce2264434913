#!/bin/sh
# Build the cairn stand-in agent (nomad/consul) and fake CNI plugins as
# release-shaped artifacts, HashiCorp / containernetworking layout:
#
#   OUTDIR/nomad_<v>_linux_amd64.zip        glibc x86_64, dynamic (like official Nomad)
#   OUTDIR/nomad_<v>_linux_amd64_musl.zip   musl x86_64, static  (stand-in for an Alpine build)
#   OUTDIR/nomad_<v>_linux_arm64.zip        glibc aarch64, dynamic
#   OUTDIR/nomad_<v>_linux_arm64_musl.zip   aarch64, static (glibc -static; runs on musl hosts)
#   OUTDIR/nomad_<v>_SHA256SUMS
#   OUTDIR/consul_<v>_linux_{amd64,arm64}[_musl].zip + consul_<v>_SHA256SUMS
#       (every consul zip holds a STATIC binary, like real Consul releases: the
#        plain zip works on Alpine too; the _musl zips are the same binary)
#   OUTDIR/cni-plugins-linux-<arch>-v<cni>.tgz + .tgz.sha256   (static plugins)
#   OUTDIR/bin/<product>_linux_<arch>_<glibc|musl|static>       raw binaries
#   OUTDIR/manifest.json                                          what was built
#
# Usage: sh test/agent/build.sh OUTDIR
# Env:   NOMAD_VERSION (1.9.7) CONSUL_VERSION (1.20.2) CNI_VERSIONS ("1.4.0 1.2.0")
#        CC_GLIBC_X64 (gcc) CC_MUSL_X64 (musl-gcc) CC_A64 (aarch64-linux-gnu-gcc)
#        AGENT_FORCE=1 rebuilds even when the stamp matches.
# Cached: skips everything when sources, this script, versions and compilers
# are unchanged (OUTDIR/.stamp-<hash>). Safe to run concurrently (flock).
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
OUT=$(cd "$1" && pwd)

NOMAD_VERSION=${NOMAD_VERSION:-1.9.7}
CONSUL_VERSION=${CONSUL_VERSION:-1.20.2}
CNI_VERSIONS=${CNI_VERSIONS:-1.4.0 1.2.0}
CNI_PLUGINS="loopback bridge host-local firewall portmap"
BUILD_DATE=${AGENT_BUILD_DATE:-2025-01-01T00:00:00Z}
CC_GLIBC_X64=${CC_GLIBC_X64:-gcc}
CC_MUSL_X64=${CC_MUSL_X64:-musl-gcc}
CC_A64=${CC_A64:-aarch64-linux-gnu-gcc}
CFLAGS="-O2 -s -Wall -Wextra"
export LC_ALL=C TZ=UTC

log() { printf 'build.sh: %s\n' "$*" >&2; }
die() {
    log "$*"
    exit 1
}

sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$@"
    else
        shasum -a 256 "$@"
    fi
}

missing=""
for c in "$CC_GLIBC_X64" "$CC_MUSL_X64" "$CC_A64"; do
    command -v "$c" >/dev/null 2>&1 || missing="$missing $c"
done
[ -z "$missing" ] || die "missing compilers:$missing (run: sh $HERE/install-deps.sh)"
command -v zip >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 || die "need zip or python3"

ccver() { "$1" -dumpfullversion 2>/dev/null || "$1" -dumpversion 2>/dev/null || echo unknown; }
KEY=$({
    cat "$HERE/agent.c" "$HERE/cni.c" "$HERE/build.sh"
    echo "$NOMAD_VERSION|$CONSUL_VERSION|$CNI_VERSIONS|$BUILD_DATE|$CFLAGS"
    for c in "$CC_GLIBC_X64" "$CC_MUSL_X64" "$CC_A64"; do echo "$c $(ccver "$c")"; done
} | sha256 | cut -c1-16)
STAMP="$OUT/.stamp-$KEY"

up_to_date() {
    [ "${AGENT_FORCE:-0}" != 1 ] || return 1
    [ -f "$STAMP" ] || return 1
    while IFS= read -r f; do
        [ -z "$f" ] || [ -e "$OUT/$f" ] || return 1
    done <"$STAMP"
    return 0
}

if up_to_date; then
    log "up to date ($OUT, stamp $KEY)"
    exit 0
fi

# one builder at a time per OUTDIR
if command -v flock >/dev/null 2>&1; then
    exec 9>"$OUT/.lock"
    flock 9
else
    n=0
    until mkdir "$OUT/.lockdir" 2>/dev/null; do
        n=$((n + 1))
        [ $n -lt 600 ] || die "timed out waiting for $OUT/.lockdir"
        sleep 1
    done
    trap 'rmdir "$OUT/.lockdir" 2>/dev/null || true' EXIT
fi
if up_to_date; then
    log "up to date ($OUT, built by a concurrent run)"
    exit 0
fi

WORK=$(mktemp -d "$OUT/.work.XXXXXX")
cleanup() {
    rm -rf "$WORK"
    rmdir "$OUT/.lockdir" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/rel" "$WORK/bin"

REVISION=$(cat "$HERE/agent.c" | sha256 | cut -c1-40)

# ---------------------------------------------------------------- agent
# target -> compiler + flags
cc_for() {
    case $1 in
    amd64_glibc) echo "$CC_GLIBC_X64" ;;
    amd64_musl) echo "$CC_MUSL_X64 -static" ;;
    arm64_glibc) echo "$CC_A64" ;;
    arm64_static) echo "$CC_A64 -static" ;;
    *) die "unknown target $1" ;;
    esac
}

build_agent() { # product target
    out="$WORK/bin/${1}_linux_$2"
    # shellcheck disable=SC2046
    $(cc_for "$2") $CFLAGS \
        "-DAGENT_PRODUCT=\"$1\"" \
        "-DNOMAD_VERSION=\"$NOMAD_VERSION\"" \
        "-DCONSUL_VERSION=\"$CONSUL_VERSION\"" \
        "-DAGENT_REVISION=\"$REVISION\"" \
        "-DAGENT_BUILD_DATE=\"$BUILD_DATE\"" \
        -o "$out" "$HERE/agent.c" || {
        log "compile failed: $1 $2"
        return 1
    }
}

build_cni() { # name version arch outdir
    case $3 in
    amd64) cc="$CC_MUSL_X64 -static" ;;
    arm64) cc="$CC_A64 -static" ;;
    esac
    supported="0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0"
    # containernetworking/plugins >= 1.5 also speak CNI spec 1.1.0
    if printf '%s\n' "$2" | awk -F. '{ exit !($1 > 1 || ($1 == 1 && $2 >= 5)) }'; then
        supported="$supported, 1.1.0"
    fi
    $cc $CFLAGS "-DCNI_NAME=\"$1\"" "-DCNI_VERSION=\"$2\"" "-DCNI_SUPPORTED=\"$supported\"" \
        -o "$4/$1" "$HERE/cni.c" || {
        log "compile failed: cni $1 $2 $3"
        return 1
    }
}

# compile everything in parallel; each job leaves a .fail marker on error
jobs_run() {
    : >"$WORK/jobs"
    for p in nomad consul; do
        for t in amd64_glibc amd64_musl arm64_glibc arm64_static; do
            (build_agent "$p" "$t" || : >"$WORK/fail.$p.$t") &
        done
    done
    for v in $CNI_VERSIONS; do
        for a in amd64 arm64; do
            d="$WORK/cni/$v-$a"
            mkdir -p "$d"
            for p in $CNI_PLUGINS; do
                (build_cni "$p" "$v" "$a" "$d" || : >"$WORK/fail.cni.$v.$a.$p") &
            done
        done
    done
    wait
    for f in "$WORK"/fail.*; do
        [ -e "$f" ] && die "build failed: ${f#"$WORK"/fail.}"
    done
    return 0
}
jobs_run

# ---------------------------------------------------------------- packaging
FIXED_TIME=202501010000

mkzip() { # zipfile binary name
    d="$WORK/zip.$$.$3"
    rm -rf "$d"
    mkdir -p "$d"
    cp "$2" "$d/$3"
    chmod 0755 "$d/$3"
    touch -t "$FIXED_TIME" "$d/$3"
    rm -f "$1"
    if command -v zip >/dev/null 2>&1; then
        (cd "$d" && zip -q -X -9 "$1" "$3")
    else
        python3 - "$1" "$d/$3" "$3" <<'EOF'
import sys, zipfile
zf, src, name = sys.argv[1:]
info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
info.create_system = 3
info.external_attr = 0o100755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with open(src, "rb") as f, zipfile.ZipFile(zf, "w") as z:
    z.writestr(info, f.read())
EOF
    fi
    rm -rf "$d"
}

B="$WORK/bin"
R="$WORK/rel"
for p in nomad consul; do
    if [ "$p" = nomad ]; then v=$NOMAD_VERSION; else v=$CONSUL_VERSION; fi
    if [ "$p" = nomad ]; then
        mkzip "$R/${p}_${v}_linux_amd64.zip" "$B/${p}_linux_amd64_glibc" "$p"
        mkzip "$R/${p}_${v}_linux_arm64.zip" "$B/${p}_linux_arm64_glibc" "$p"
    else
        mkzip "$R/${p}_${v}_linux_amd64.zip" "$B/${p}_linux_amd64_musl" "$p"
        mkzip "$R/${p}_${v}_linux_arm64.zip" "$B/${p}_linux_arm64_static" "$p"
    fi
    mkzip "$R/${p}_${v}_linux_amd64_musl.zip" "$B/${p}_linux_amd64_musl" "$p"
    mkzip "$R/${p}_${v}_linux_arm64_musl.zip" "$B/${p}_linux_arm64_static" "$p"
    (cd "$R" && sha256 "${p}_${v}"_linux_*.zip >"${p}_${v}_SHA256SUMS")
done

tar_c() { # dir -> stdout (GNU tar: normalised owner/order/mtime)
    if tar --version 2>/dev/null | grep -q 'GNU tar'; then
        (cd "$1" && tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@1735689600 -cf - .)
    else
        (cd "$1" && tar -cf - .)
    fi
}

for v in $CNI_VERSIONS; do
    for a in amd64 arm64; do
        d="$WORK/cni/$v-$a"
        cat >"$d/README.md" <<EOF
cairn test stand-in for containernetworking/plugins v$v ($a).
Plugins: $CNI_PLUGINS. Run one with no arguments to see its version.
EOF
        printf 'Apache License 2.0 (stand-in; see containernetworking/plugins)\n' >"$d/LICENSE"
        chmod 0644 "$d/README.md" "$d/LICENSE"
        for p in $CNI_PLUGINS; do chmod 0755 "$d/$p"; done
        find "$d" -exec touch -t "$FIXED_TIME" {} +
        t="cni-plugins-linux-$a-v$v.tgz"
        tar_c "$d" | gzip -n -9 >"$R/$t"
        (cd "$R" && sha256 "$t" >"$t.sha256")
    done
done

# ---------------------------------------------------------------- manifest
json_entry() { # file product version arch flavour linkage [binary]
    h=$(sha256 "$R/$1" | cut -c1-64)
    printf '    {"file": "%s", "product": "%s", "version": "%s", "arch": "%s", "flavour": "%s", "linkage": "%s", "sha256": "%s"}' \
        "$1" "$2" "$3" "$4" "$5" "$6" "$h"
}
{
    printf '{\n  "stamp": "%s",\n  "nomad_version": "%s",\n  "consul_version": "%s",\n' "$KEY" "$NOMAD_VERSION" "$CONSUL_VERSION"
    printf '  "cni_versions": ['
    sep=""
    for v in $CNI_VERSIONS; do
        printf '%s"%s"' "$sep" "$v"
        sep=", "
    done
    printf '],\n  "artifacts": [\n'
    sep=""
    for p in nomad consul; do
        if [ "$p" = nomad ]; then v=$NOMAD_VERSION; plain=dynamic; else v=$CONSUL_VERSION; plain=static; fi
        for a in amd64 arm64; do
            printf '%s' "$sep"
            json_entry "${p}_${v}_linux_${a}.zip" "$p" "$v" "$a" glibc "$plain"
            printf ',\n'
            json_entry "${p}_${v}_linux_${a}_musl.zip" "$p" "$v" "$a" musl static
            sep=",
"
        done
    done
    for v in $CNI_VERSIONS; do
        for a in amd64 arm64; do
            printf ',\n'
            json_entry "cni-plugins-linux-$a-v$v.tgz" cni "$v" "$a" any static
        done
    done
    printf '\n  ],\n  "bin": {\n'
    sep=""
    for p in nomad consul; do
        for t in amd64_glibc amd64_musl arm64_glibc arm64_static; do
            printf '%s    "%s_linux_%s": "bin/%s_linux_%s"' "$sep" "$p" "$t" "$p" "$t"
            sep=",
"
        done
    done
    printf '\n  }\n}\n'
} >"$R/manifest.json"

# ---------------------------------------------------------------- publish
mkdir -p "$OUT/bin"
list="$WORK/list"
: >"$list"
for f in "$R"/*; do
    n=$(basename "$f")
    mv -f "$f" "$OUT/$n"
    echo "$n" >>"$list"
done
for f in "$B"/*; do
    n=$(basename "$f")
    mv -f "$f" "$OUT/bin/$n"
    echo "bin/$n" >>"$list"
done
rm -f "$OUT"/.stamp-*
mv "$list" "$STAMP"
log "built into $OUT (stamp $KEY):"
sed 's/^/  /' "$STAMP" >&2
