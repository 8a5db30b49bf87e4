#!/bin/sh
# Builds the library twice into fresh directories and compares the bytes.
set -eu
[ "${1:-}" = --arch ] && [ -n "${2:-}" ] || { echo "usage: sh layer/test/reproducible.sh --arch x86_64|arm64" >&2; exit 2; }
arch=$2
layer=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sh "$layer/build.sh" --arch "$arch" --werror --out "$work/a" >/dev/null
sh "$layer/build.sh" --arch "$arch" --werror --out "$work/b" >/dev/null
if cmp "$work/a/shm_redirect.so" "$work/b/shm_redirect.so"; then
    echo "reproducible: $arch $(sha256sum <"$work/a/shm_redirect.so" | cut -c1-16)"
else
    echo "reproducible: FAIL, two $arch builds differ" >&2
    exit 1
fi
