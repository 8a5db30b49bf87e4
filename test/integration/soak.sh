#!/usr/bin/env bash
# The short soak of the reclaim (run-all's integ-soak): test/integration/soak.py with CLM_SOAK_INVOCATIONS
# invocations (default 200) over two x86_64 and two arm64 (qemu) runtimes sharing one /tmp, random SIGKILLs,
# a new seed each run (printed; pass --seed N to repeat one). CLM_SKIP_ARM64=1 leaves arm64 out. Arguments go
# to soak.py; the full soak is `python3 test/integration/soak.py` (1,000 invocations, docs/integration.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/integration/prerequisites.sh --sandbox-only
make -s -C layer all-arches
start=$(date +%s)
python3 test/integration/soak.py --invocations "${CLM_SOAK_INVOCATIONS:-200}" "$@"
echo "integ-soak: done in $(( $(date +%s) - start ))s"
