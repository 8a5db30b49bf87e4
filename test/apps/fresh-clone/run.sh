#!/usr/bin/env bash
# The packaging tasks work first time on a fresh clone: clones the repository's HEAD into a temporary
# directory, runs `npm ci`, then each packaging task from a clean tree (`git clean` between tasks, keeping
# node_modules) and checks what it made. Uncommitted changes are not in the clone.
# npm's download cache lives under $CLM_CACHE_DIR/npm.
set -euo pipefail

root=$(cd "$(dirname "$0")/../../.." && pwd)
cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}
export npm_config_cache="$cache/npm"
tasks=("package:js" "package:python" "package:java")
declare -A made=([package:js]='dist/js/*.tgz' [package:python]='dist/python/*.whl' [package:java]='dist/java/**/*.jar')

work=$(mktemp -d /tmp/clm-fresh-clone.XXXXXX)
trap 'rm -rf "$work"' EXIT
start=$SECONDS
step() { echo "fresh-clone: $* ($((SECONDS - start)) s)"; }

[ -z "$(git -C "$root" status --porcelain --untracked-files=no)" ] ||
  step "note: uncommitted changes in $root are not tested (the clone has HEAD $(git -C "$root" rev-parse --short HEAD))"
step "git clone $root"
git clone --quiet "$root" "$work/repo"
cd "$work/repo"
step "npm ci"
npm ci --no-audit --no-fund --prefer-offline --loglevel=error >/dev/null

shopt -s nullglob globstar
failed=0
for task in "${tasks[@]}"; do
  git clean -fdqx -e /node_modules
  step "npx projen $task, from a clean tree"
  if ! npx projen "$task" >"$work/$task.log" 2>&1; then
    tail -n 30 "$work/$task.log" >&2
    step "FAILED: npx projen $task (last lines above)"
    failed=1
    continue
  fi
  # shellcheck disable=SC2206 # the pattern is meant to expand here
  outputs=(${made[$task]})
  if [ ${#outputs[@]} -eq 0 ]; then
    step "FAILED: npx projen $task made no ${made[$task]}"
    failed=1
  else
    step "ok: npx projen $task made ${outputs[*]}"
  fi
done
exit $failed
