#!/usr/bin/env bash
# The full matrix (`npx projen demo:full`): synthesizes the example app (examples/app.ts) and invokes each of
# its functions in the Lambda-like sandbox: x86_64 and arm64 (under qemu), glibc 2.36 and 2.31 (Debian 11 for
# the AL2 runtimes), python3.11/3.12/3.13, and the functions without the fix, which must fail as on Lambda.
# A runtime whose Python this machine lacks is reported as not run. Arguments go to `invoker.py run`
# (e.g. --only PoolMap, --skip-arch arm64).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash test/integration/prerequisites.sh --sandbox-only
# The arm64 layer is compiled at synth: a cross gcc and the arm64 C library, unless another toolchain is there.
if [ "$(uname -m)" != aarch64 ] && ! command -v aarch64-linux-gnu-gcc >/dev/null && ! command -v zig >/dev/null; then
  echo "demo:full: installing the arm64 cross compiler (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross)"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross
fi
start=$(date +%s)
results=test/integration/.work/demo-full.json
rm -f "$results"
python3 test/integration/invoker.py run --app 'npx ts-node --prefer-ts-exts examples/app.ts' --json "$results" "$@"
# README.md's table of what each runtime ran on must say what this run reported.
python3 test/integration/runtime_table.py check --stage demo-full "$results"
echo "demo:full: done in $(( $(date +%s) - start ))s"
