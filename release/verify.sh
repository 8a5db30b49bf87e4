#!/usr/bin/env bash
# Checks a release's library by rebuilding it: from `git archive` of the checked-out commit (the release's
# tag), builds shm_redirect.so for x86_64 and arm64 with layer/build.sh and the default compilers, zips each as
# the release does, and compares the sha256 of both with the table of the release's notes.
#
#   git checkout vVERSION && bash release/verify.sh RELEASE_NOTES.md
#
# The bytes depend on the compiler, binutils and glibc's headers: the release's are in its notes and in
# dist/provenance.intoto.json (Debian 12's gcc 12 and cross gcc; docs/releasing.md runs this in a Debian 12
# container on any other host). Exit 0 only when both libraries and both zips match.
set -euo pipefail
[ $# = 1 ] && [ -f "$1" ] || { sed -n '2,11s/^# \{0,1\}//p' "$0" >&2; exit 2; }
notes=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/release-verify.XXXXXX")
trap 'rm -rf "$work"' EXIT
library=$(git show HEAD:layer/VERSION)
echo "verify: commit $(git rev-parse HEAD), library $library"
git archive --format=tar HEAD layer release/layer-zip.py | tar -x -C "$work"
mismatches=0
for arch in x86_64 arm64; do
  row=$(grep -E "^\| $arch \|" "$notes") || { echo "verify: no $arch row in $notes" >&2; exit 2; }
  want_lib=$(printf '%s\n' "$row" | sed -n 's/^| [a-z0-9_]* | `\([0-9a-f]\{64\}\)`.*/\1/p')
  want_zip=$(printf '%s\n' "$row" | sed -n 's/.*(sha256 `\([0-9a-f]\{64\}\)`).*/\1/p')
  [ -n "$want_lib" ] && [ -n "$want_zip" ] || { echo "verify: cannot read the $arch row: $row" >&2; exit 2; }
  sh "$work/layer/build.sh" --arch "$arch" --werror --out "$work/out/$arch"
  python3 "$work/release/layer-zip.py" "$work/out/$arch/shm_redirect.so" "$work/out/$arch.zip"
  got_lib=$(sha256sum <"$work/out/$arch/shm_redirect.so" | cut -d' ' -f1)
  got_zip=$(sha256sum <"$work/out/$arch.zip" | cut -d' ' -f1)
  for what in lib zip; do
    want=want_$what got=got_$what
    if [ "${!want}" = "${!got}" ]; then
      echo "verify: $arch $what ${!got}: the same as the release's"
    else
      echo "verify: $arch $what ${!got}, the release has ${!want}: DIFFERENT"
      mismatches=$((mismatches + 1))
    fi
  done
done
[ "$mismatches" = 0 ] || { echo "verify: $mismatches mismatch(es); compare your compiler with the release's (its notes)"; exit 1; }
echo "verify: both libraries and both layer zips are the release's, byte for byte"
