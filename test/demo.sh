#!/usr/bin/env bash
# The README's main job: install what is needed, boot the local demo fleet
# (2 Alpine + 1 Debian from the test bed), apply inventory/demo.yml twice
# (the second run shows changed=0), print the recap, tear the fleet down.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/install-deps.sh
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error
exec node --import tsx test/demo.ts "$@"
