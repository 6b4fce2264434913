#!/usr/bin/env bash
# cairn's test command (README, .ci/run): installs what it needs, boots the test
# bed (real Alpine/OpenRC, Debian/systemd and aarch64 hosts), runs every test,
# tears the bed down, and ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
bash test/install-deps.sh || { echo "dependency install failed"; echo "0 passed, 1 failed"; exit 1; }
npm ci --no-audit --no-fund --loglevel=error || { echo "npm ci failed"; echo "0 passed, 1 failed"; exit 1; }
if ! npx tsc --noEmit -p .; then echo "typecheck failed"; echo "0 passed, 1 failed"; exit 1; fi

export CAIRN_BED_FLEET=${CAIRN_BED_FLEET:-test}
export CAIRN_CACHE_DIR=${CAIRN_CACHE_DIR:-/var/cache/cairn-test/artifacts}
down() { npm run --silent bed -- down --fleet "$CAIRN_BED_FLEET" >/tmp/cairn-bed-down.log 2>&1 || cat /tmp/cairn-bed-down.log; }
trap down EXIT
if ! npm run --silent bed -- up --fleet "$CAIRN_BED_FLEET" ${CAIRN_BED_UP_ARGS:---alpine 4 --debian 3 --alpine-arm 1 --debian-arm 1 --s6}; then
  echo "test bed did not come up"; echo "0 passed, 1 failed"; exit 1
fi
if [ $# -gt 0 ]; then
  npx ava --tap "$@" 2>&1 | node test/summary.mjs
  exit "${PIPESTATUS[0]}"
fi
# the bed's smoke test first, alone: it looks at every host, which the other test
# files claim and change while they run in parallel
{
  npx ava --tap 'test/integration/bed/*.test.ts'; s1=$?
  npx ava --tap 'test/unit/**/*.test.ts' 'test/agent/**/*.test.ts' 'test/integration/**/*.test.ts' '!test/integration/bed/*.test.ts'; s2=$?
  echo "# ava exit codes: $s1 $s2"
  # teardown is part of the test: afterwards nothing of the fleet may be left
  npm run --silent bed -- down --fleet "$CAIRN_BED_FLEET" >/tmp/cairn-bed-down.log 2>&1; sd=$?
  ns=$(ip netns list | grep -c "^cairn-bed-$CAIRN_BED_FLEET\b" || true)
  ps=$(pgrep -fc "systemd-nspawn.*--machine=cairn-bed-$CAIRN_BED_FLEET-" || true)
  mnt=$(grep -c " /var/lib/cairn-bed/$CAIRN_BED_FLEET/" /proc/mounts || true)
  cg=$(find /sys/fs/cgroup -maxdepth 6 -type d -name "cairn-bed-$CAIRN_BED_FLEET-*" 2>/dev/null | wc -l)
  if [ "$sd" -eq 0 ] && [ "$ns$ps$mnt$cg" = "0000" ]; then s3=0; echo "ok 1 - bed teardown: down exit 0; no netns, nspawn process, mount or cgroup of fleet $CAIRN_BED_FLEET left"
  else s3=1; echo "not ok 1 - bed teardown: down exit $sd; left: $ns netns, $ps nspawn processes, $mnt mounts, $cg cgroups"; cat /tmp/cairn-bed-down.log; fi
  [ "$s1" -eq 0 ] && [ "$s2" -eq 0 ] && [ "$s3" -eq 0 ]
} 2>&1 | node test/summary.mjs
exit "${PIPESTATUS[0]}"
