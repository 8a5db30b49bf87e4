#!/usr/bin/env bash
# CI stage of the CDK construct library (owner "cdk"): installs what it needs,
# then `projen build` (jsii compile, API.md, jest + eslint, npm package), checks
# that the committed API.md is current, and runs the Python CDK app test.
set -euo pipefail
cd "$(dirname "$0")/.."

stage_start=$(date +%s)
timed() {
  local start
  start=$(date +%s)
  "$@"
  echo "cdk-stage: '$*' took $(($(date +%s) - start))s"
}

# gcc + binutils: local x86_64 build and audit; gcc-aarch64-linux-gnu: the
# local arm64 build the bundling tests check.
missing=()
command -v gcc >/dev/null || missing+=(gcc)
command -v readelf >/dev/null || missing+=(binutils)
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
if [ ${#missing[@]} -gt 0 ]; then
  timed apt-get update -q
  timed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Not `npm ci`: see docs/cdk.md (the registry here lacks the lock's non-Linux optional binaries).
timed npm install --no-audit --no-fund
timed env CI=true npx projen build
if ! git diff --exit-code -- API.md; then
  echo "cdk-stage: API.md is stale; run 'npx projen build' and commit it" >&2
  exit 1
fi
timed npx projen test:python-app
echo "cdk-stage: total $(($(date +%s) - stage_start))s"
