#!/usr/bin/env bash
# Verifies the integ-runner snapshots against a fresh synth, offline; --update rewrites them.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
python3 test/integration/snapshot.py "$@"
echo "integ:snapshot: done in $(( $(date +%s) - start ))s"
