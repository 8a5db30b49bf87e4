#!/usr/bin/env bash
# Stage watch-versions: what users get today against what the tests pin, so that a new release is noticed by us
# before our users: the newest ziglang on PyPI (`pip install ziglang`), the newest Python in Debian forky (the
# newest glibc and CPython CI can reach) and the newest aws-cdk-lib on npm. It prints, never fails: a registry
# out of reach (offline) is said and skipped.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache_root=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}
cache=$cache_root/watch-versions
newer=0

say() { echo "watch-versions: $*"; }

# compare WHAT NEWEST PINNED [NOTE]: says whether NEWEST is newer than PINNED (version order, as sort -V sees it).
compare() {
  local what=$1 newest=$2 pinned=$3 note=${4:-}
  if [ "$newest" = "$pinned" ] || [ "$(printf '%s\n%s\n' "$newest" "$pinned" | sort -V | tail -n 1)" = "$pinned" ]; then
    say "$what: newest $newest, tests pin $pinned: up to date"
  else
    newer=$((newer + 1))
    say "$what: NEWER $newest than the $pinned the tests pin${note:+ ($note)}"
  fi
}

zig() {
  local pinned newest pip
  pinned=$(sed -n 's/^ZIGLANG_PINNED=//p' "$repo/test/library/run-compilers.sh")
  # Debian's python3 has no pip; the compilers stage's venv of the pinned release does.
  pip=
  [ ! -x "$cache_root/ziglang-$pinned/bin/python" ] || pip="$cache_root/ziglang-$pinned/bin/python -m pip"
  if ! newest=$(CLM_PIP=$pip sh "$repo/test/library/ziglang-newest.sh" 2>&1); then
    say "ziglang: $newest (tests pin $pinned)"
    return
  fi
  compare ziglang "$newest" "$pinned" 'the compilers stage builds with both'
}

# forky's package index through apt itself, with a configuration and lists of its own (kept in the cache, so a
# later run fetches only what changed): the host's apt sources and state are left alone.
forky_python() {
  local mirror dir opts newest version pinned
  mirror=${CLM_DEBIAN_MIRROR:-$(apt-get indextargets --format '$(REPO_URI)' 2>/dev/null | grep -m 1 '/debian/$')}
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian/
  dir=$cache/apt-forky
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror forky main" >"$dir/sources.list"
  # A testing suite's Release file is valid for a week only, and a mirror may serve an older one.
  opts=(-o "Dir::Etc::SourceList=$dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent
    -o Dir::Etc::Parts=/nonexistent -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache"
    -o Dir::State::status=/dev/null -o Acquire::Check-Valid-Until=false -o Acquire::Languages=none)
  # apt keeps the lists of an earlier run when it cannot fetch new ones, and says so only in a warning.
  timeout 300 apt-get -q "${opts[@]}" update >"$dir/update.log" 2>&1
  if grep -q '^[WE]: Failed to fetch\|^E: ' "$dir/update.log"; then
    say "python (forky): $mirror out of reach: $(grep -m 1 '^[WE]: ' "$dir/update.log")"
    [ -n "$(find "$dir/lists" -maxdepth 1 -name '*_Packages*' -print -quit)" ] || return
    say "python (forky): from the index of $(date -r "$(find "$dir/lists" -maxdepth 1 -name '*_Packages*' -print -quit)" +%F)"
  fi
  newest=$(apt-cache "${opts[@]}" search --names-only '^python3\.[0-9]+$' | cut -d' ' -f1 | sort -V | tail -n 1)
  [ -n "$newest" ] || { say "python (forky): no python3.N package in forky"; return; }
  version=$(apt-cache "${opts[@]}" policy "$newest" | sed -n 's/^ *Candidate: //p')
  say "python (forky): $newest $version is the newest; its python3 is $(apt-cache "${opts[@]}" policy python3 |
    sed -n 's/^ *Candidate: //p')"
  # The interpreters the root filesystems install by name (test/tools/ensure-rootfs.sh).
  pinned=$(grep -oh 'python3\.[0-9]\+' "$repo/test/tools/ensure-rootfs.sh" | sort -V | tail -n 1)
  if [ -z "$pinned" ]; then
    newer=$((newer + 1))
    say "python (forky): NEWER $newest, and no test installs a python3.N by name"
    return
  fi
  compare 'python (forky)' "${newest#python}" "${pinned#python}"
}

# The aws-cdk-lib the tests ran on is the one npm ci installed from package-lock.json.
cdk() {
  local pinned newest
  pinned=$(node -p "require('$repo/package-lock.json').packages['node_modules/aws-cdk-lib'].version" 2>/dev/null)
  if ! newest=$(cd "$repo" && timeout 120 npm view --fetch-retries=0 --fetch-timeout=20000 aws-cdk-lib version 2>/dev/null) || [ -z "$newest" ]; then
    say "aws-cdk-lib: npm out of reach (tests pin $pinned)"
    return
  fi
  compare aws-cdk-lib "$newest" "$pinned"
}

zig
forky_python
cdk
say "$newer newer than the tests pin"
exit 0
