#!/usr/bin/env bash
# Runs the quick starts exactly as written (extract.py takes them from README.md, ts, and docs/cdk.md, py), each in a new
# empty folder, against the package built from this repository: `ts` with the npm tarball in dist/js, `py`
# with the wheel in dist/python (build them with `npx projen package:js` / `npx projen package:python`).
# Then checks the synthesized template: an arm64 layer, the zip function with it and LD_PRELOAD, and (ts) the
# image function with LD_PRELOAD and its image asset's shm-redirect build context.
# usage: run.sh [ts] [py]   (default: both). Downloads are cached under $CLM_CACHE_DIR (npm/, pip/).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}
export npm_config_cache="$cache/npm" PIP_CACHE_DIR="$cache/pip"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false PIP_DISABLE_PIP_VERSION_CHECK=1

artifact() {
  local found
  found=$(ls -t "$root"/$1 2>/dev/null | head -n 1 || true)
  if [ -z "$found" ]; then
    echo "quickstart: no $1; build it with: npx projen $2" >&2
    exit 2
  fi
  echo "$found"
}

run() {
  local name=$1 package=$2 start=$SECONDS
  local work
  work=$(mktemp -d "/tmp/clm-quickstart-$name.XXXXXX")
  # shellcheck disable=SC2064 # expand now: one folder per quick start
  trap "rm -rf '$work'" RETURN
  echo "quickstart $name: node $(node --version), $(python3 --version), package $(basename "$package"), in $work"
  # The TypeScript quick start is the README's; the Python one is in docs/cdk.md.
  local doc=$root/README.md
  [ "$name" = ts ] || doc=$root/docs/cdk.md
  python3 "$here/extract.py" "$doc" "$name" --package "$package" >"$work.sh"
  mkdir "$work/app"
  if ! (cd "$work/app" && bash "$work.sh") >"$work/log" 2>&1; then
    tail -n 40 "$work/log" >&2
    echo "quickstart $name: FAILED after $((SECONDS - start)) s (last lines above; the script: $work.sh)" >&2
    return 1
  fi
  grep '^quickstart' "$work/log"
  rm -f "$work.sh"
  python3 "$here/check_template.py" "$work/app/cdk.out/Workers.template.json" $([ "$name" = ts ] && echo --image)
  echo "quickstart $name: ok in $((SECONDS - start)) s"
}

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(ts py)
failed=0
for name in "${names[@]}"; do
  case $name in
    ts) run ts "$(artifact 'dist/js/*.tgz' package:js)" || failed=1 ;;
    py) run py "$(artifact 'dist/python/*.whl' package:python)" || failed=1 ;;
    *) echo "usage: $0 [ts] [py]" >&2; exit 2 ;;
  esac
done
exit $failed
