#!/usr/bin/env bash
# One execution environment, many invocations, through AWS's Runtime Interface Emulator (test_lifecycle.py):
# warm invocations, a timeout, crashes and an init error, the /tmp leak of killed runtimes, two runtimes sharing
# /tmp, and the fan-out example's worker. Each invocation prints a line. CLM_SKIP_ARM64=1 leaves arm64 out.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/integration/prerequisites.sh
start=$(date +%s)
python3 -m pytest -q -s -p no:cacheprovider test/integration/test_lifecycle.py "$@"
echo "integ-lifecycle: done in $(( $(date +%s) - start ))s"
