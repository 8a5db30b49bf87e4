#!/usr/bin/env bash
# The demo: synthesizes the example app (examples/app.ts) and invokes each of its functions in the
# Lambda-like sandbox, printing its result and duration, and the failure of the functions without the fix.
# Arguments go to `invoker.py run` (e.g. --only PoolMap, --skip-arch arm64).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/integ/prerequisites.sh
start=$(date +%s)
python3 test/integ/invoker.py run --app 'npx ts-node --prefer-ts-exts examples/app.ts' "$@"
echo "demo: done in $(( $(date +%s) - start ))s"
