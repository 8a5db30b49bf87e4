#!/usr/bin/env bash
# The local integration tests: the invoker's own tests, then every example function synthesized and run in
# the Lambda-like sandbox (test_examples.py). CLM_SKIP_ARM64=1 leaves the arm64 functions out (not run).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/integration/prerequisites.sh
start=$(date +%s)
# test_lifecycle.py and deploy-local/ are stages of their own (lifecycle.sh, deploy-local/run.sh, which gives
# test_deploy.py its deployment).
python3 -m pytest -q -p no:cacheprovider test/integration --ignore test/integration/test_lifecycle.py \
  --ignore test/integration/deploy-local "$@"
echo "integ:local: done in $(( $(date +%s) - start ))s"
