#!/bin/sh
# Exit 0 (build them) when the prebuilt libraries are missing or older than their sources: the condition of the
# packaging tasks' build:prebuilt step, so that a package made from a fresh clone (which runs compile, not
# pre-compile) carries them too.
for arch in x86_64 arm64; do
    [ -f "layer/prebuilt/$arch.sha256" ] && [ -f "layer/prebuilt/$arch/lib/shm_redirect.so" ] || exit 0
done
[ -n "$(find layer/src layer/build.sh layer/exports.txt layer/VERSION -newer layer/prebuilt/x86_64.sha256 -print | head -n 1)" ]
