#!/usr/bin/env bash
# Cuts a release locally (`npx projen release:local VERSION`, docs/releasing.md): on a clean checkout, sets the
# packages' version (VERSION, then package.json through projen), and with --library the library's
# (layer/VERSION); turns CHANGELOG.md's "## Unreleased" into "## VERSION (DATE)"; commits and tags vVERSION;
# then builds and checks every artefact into dist/ (release/build.sh). Nothing is pushed or published: pushing
# the tag does that (the release workflow).
#
#   bash release/cut.sh VERSION [--library LIBRARY_VERSION]
#
# Refuses a version that is not semantic (X.Y.Z, optionally -PRERELEASE) or not above the current one, a tag
# that exists, an empty "## Unreleased" section, and library sources changed since the last release tag
# without a new library version (two different libraries must never carry the same version).
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "release/cut: $*" >&2; exit 1; }
usage() { sed -n '2,13s/^# \{0,1\}//p' "$0"; }
version= library=
while [ $# -gt 0 ]; do
  case $1 in
    --library) [ $# -ge 2 ] || die "--library needs a version"; library=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option $1" ;;
    *) [ -z "$version" ] || die "one version only"; version=$1; shift ;;
  esac
done
[ -n "$version" ] || { usage >&2; exit 2; }
semver='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$'
[[ $version =~ $semver ]] || die "'$version' is not a semantic version (X.Y.Z or X.Y.Z-PRERELEASE)"
[ -z "$library" ] || [[ $library =~ $semver ]] || die "library version '$library' is not a semantic version"

[ -z "$(git status --porcelain)" ] || die "the tree has uncommitted changes (git status)"
current=$(cat VERSION)
[ "$(printf '%s\n%s\n' "$current" "$version" | sort -V | tail -n 1)" = "$version" ] && [ "$version" != "$current" ] ||
  die "$version is not above the current version $current"
! git rev-parse -q --verify "refs/tags/v$version" >/dev/null || die "tag v$version exists"

unreleased=$(awk '/^## Unreleased/ { on = 1; next } /^## / { on = 0 } on && NF' CHANGELOG.md)
[ -n "$unreleased" ] || die "CHANGELOG.md's '## Unreleased' section is empty or missing: say what changed for users first"

# The library's version must move with its sources.
library_files=(layer/src layer/build.sh layer/exports.txt)
if previous=$(git describe --tags --match 'v[0-9]*' --abbrev=0 2>/dev/null); then
  if [ -z "$library" ] && ! git diff --quiet "$previous" HEAD -- "${library_files[@]}" &&
    [ "$(git show "$previous:layer/VERSION")" = "$(cat layer/VERSION)" ]; then
    die "the library's sources changed since $previous but layer/VERSION did not: add --library X.Y.Z"
  fi
fi
if [ -n "$library" ]; then
  [ "$(printf '%s\n%s\n' "$(cat layer/VERSION)" "$library" | sort -V | tail -n 1)" = "$library" ] ||
    die "library $library is below the current $(cat layer/VERSION)"
  echo "$library" >layer/VERSION
fi

echo "$version" >VERSION
# package.json from VERSION, and the lock file's copy of the version; node_modules is left as it is.
npx projen --no-post >/dev/null
npm install --package-lock-only --no-audit --no-fund --loglevel=error >/dev/null
python3 - "$version" "$(date -u +%Y-%m-%d)" <<'PY'
import re, sys
version, day = sys.argv[1:]
text = open('CHANGELOG.md').read()
text = re.sub(r'^## Unreleased\b.*$', '## Unreleased\n\n## %s (%s)' % (version, day), text, count=1, flags=re.M)
open('CHANGELOG.md', 'w').write(text)
PY
git add VERSION layer/VERSION package.json package-lock.json CHANGELOG.md
git commit --quiet -m "release: v$version (library $(cat layer/VERSION))"
git tag -a "v$version" -m "cdk-lambda-multiprocessing $version (library $(cat layer/VERSION))"
echo "release/cut: committed and tagged v$version; building dist/"
bash release/build.sh
echo "release/cut: v$version is cut: dist/ holds every artefact and dist/SHA256SUMS."
echo "  Publish: git push origin HEAD v$version   (the release workflow builds, checks and publishes the tag)"
echo "  Undo before pushing: git tag -d v$version && git reset --hard HEAD~1"
