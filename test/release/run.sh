#!/usr/bin/env bash
# Stage release: a release cut from a clean clone with the one documented command, and everything it made
# checked. Clones HEAD into a temporary directory (node_modules hard-linked from this checkout when present,
# else npm ci), then in the clone:
#   refusals     release/cut.sh refuses a version that is not semantic and one that is not above VERSION
#   cut          npx projen release:local NEXT (1.0.0 while VERSION is 0.0.0, else the next patch): commit, tag,
#                dist/ built and checked by release/check.sh (packages, layer zips and their audit, the image
#                by COPY --from, provenance, notes, SHA256SUMS)
#   changelog    the cut dated the changelog's entry and left an empty "## Unreleased", which a second cut refuses
#   verify       release/verify.sh rebuilds both libraries from the tag and finds the notes' sha256
# Nothing is pushed or published. Needs root and podman (the COPY --from check runs containers on a Debian 12
# root filesystem from test/tools/ensure-rootfs.sh); its podman storage is its own.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}
export npm_config_cache="$cache/npm"
export CLM_PODMAN=$repo/test/tools/podman/docker CLM_PODMAN_STORAGE_DRIVER=overlay
export CLM_PODMAN_ROOT=$cache/podman/storage-release
work=$(mktemp -d /var/tmp/clm-release.XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() {
  local name=$1 start=$SECONDS
  shift
  echo "--- release: $name"
  if "$@"; then passed=$((passed + 1)); echo "--- PASS $name ($((SECONDS - start)) s)"
  else failed=$((failed + 1)); echo "--- FAIL $name ($((SECONDS - start)) s)"; fi
}

[ -z "$(git -C "$repo" status --porcelain --untracked-files=no)" ] ||
  echo "release: note: uncommitted changes in $repo are not in the clone (HEAD $(git -C "$repo" rev-parse --short HEAD))"
git clone --quiet "$repo" "$work/repo" || exit 1
cd "$work/repo" || exit 1
git config user.email release-test@localhost && git config user.name "release stage"
if [ -d "$repo/node_modules" ]; then cp -al "$repo/node_modules" node_modules; else npm ci --no-audit --no-fund --loglevel=error; fi
current=$(cat VERSION)
if [ "$current" = 0.0.0 ]; then next=1.0.0; else next=$(echo "$current" | awk -F. '{ printf "%d.%d.%d", $1, $2, $3 + 1 }'); fi

refuses() {
  local out
  if out=$(bash release/cut.sh "$@" 2>&1); then echo "cut.sh $* was not refused"; return 1; fi
  echo "cut.sh $*: ${out##*$'\n'}"
  [ -z "$(git status --porcelain)" ] || { echo "and it left changes behind"; git status --short; return 1; }
}
refusals() { refuses 1.0 && refuses "$current" && refuses "$next" --library 1.0; }

cut() { npx projen release:local "$next"; }

changelog() {
  grep -q "^## $next ($(date -u +%Y-%m-%d))" CHANGELOG.md || { echo "no dated '## $next' entry"; return 1; }
  [ "$(git describe --tags --exact-match)" = "v$next" ] || return 1
  local after out
  after=$(echo "$next" | awk -F. '{ printf "%d.%d.%d", $1, $2, $3 + 1 }')
  out=$(refuses "$after") && [[ $out == *Unreleased* ]] || { echo "a second cut, $after: $out"; return 1; }
  echo "dated '## $next', tag v$next; $out"
}

verify() { bash release/verify.sh dist/RELEASE_NOTES.md; }

check refusals refusals
check "cut $next" cut
if [ -f dist/SHA256SUMS ]; then
  echo "--- dist/ of v$next:"
  (cd dist && ls -l layer image ./*.json ./*.md && cat SHA256SUMS)
fi
check changelog changelog
check verify verify
echo "release: $passed passed, $failed failed"
[ "$failed" = 0 ]
