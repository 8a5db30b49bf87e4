#!/usr/bin/env bash
# Stage: every compiler the README and the construct's probe name builds a library that passes the audit and the
# C tests (natively for x86_64, under qemu-aarch64-static for arm64): gcc 12, gcc 11 (the AL2023 build image's
# major), aarch64-linux-gnu-gcc, clang --target= and zig cc (PyPI ziglang, glibc 2.26 target) for both
# architectures, zig twice: the pinned release and the newest on PyPI, which is what `pip install ziglang` gives a
# user today. The project's own builds, so with --werror. Needs gcc-11, clang, lld, gcc-aarch64-linux-gnu,
# qemu-user-static (test/tools/deps/debian.txt lists them); each ziglang is pip-installed into a venv of its own in the shared
# cache, kept by version.
ZIGLANG_PINNED=0.13.0.post1
source "$(dirname "$0")/common.sh"
parse_args "Checks, for each compiler and architecture:
  build NAME   layer/build.sh --werror --cc NAME
  audit NAME   layer/audit.sh
  c-tests NAME layer/test/run.sh --mode native --lib (the library just built)
  glibc-2.31 zig-VERSION-x86_64  test/library/run-bullseye.sh --lib: zig links its own glibc 2.26 stubs (and
               names libpthread.so.0), so its library also runs on the old glibc, sh and cat included
zig VERSION is the pinned ziglang ($ZIGLANG_PINNED) and the newest on PyPI (when PyPI cannot be reached:
the newest already in the cache)." "$@"

zig_cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}

# Sets zig_bin to a directory holding `zig` of ziglang VERSION, installing that release on first use. The shim
# sits on PATH as `zig`, as a Homebrew or tarball zig would.
ensure_zig() {
  local version=$1 venv=$zig_cache/ziglang-$1 tmp
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -m ziglang version >/dev/null 2>&1; then
    tmp=$(mktemp -d "$venv.tmp.XXXXXX") && chmod 755 "$tmp" || return 1
    if ! { python3 -m venv "$tmp" && "$tmp/bin/pip" install -q "ziglang==$version"; }; then
      rm -rf "$tmp"
      return 1
    fi
    # Another run may have finished the same release meanwhile; either copy will do.
    rm -rf "$venv" && mv -T "$tmp" "$venv" || rm -rf "$tmp"
  fi
  zig_bin=$scratch/zig-$version/bin
  mkdir -p "$zig_bin"
  printf '#!/bin/sh\nexec %s -m ziglang "$@"\n' "$venv/bin/python" >"$zig_bin/zig"
  chmod +x "$zig_bin/zig"
  "$zig_bin/zig" version
}

# Sets ziglang_newest: PyPI's newest release, else (offline) the newest one cached.
find_newest_zig() {
  # Debian's python3 has no pip; the pinned release's venv does (run as python -m pip: its bin/pip names the
  # directory the venv was made in).
  local python=$zig_cache/ziglang-$ZIGLANG_PINNED/bin/python pip=
  [ ! -x "$python" ] || pip="$python -m pip"
  if ziglang_newest=$(CLM_PIP=$pip sh "$repo/test/library/ziglang-newest.sh"); then
    echo "newest ziglang on PyPI: $ziglang_newest"
    return 0
  fi
  ziglang_newest=$(find "$zig_cache" -maxdepth 1 -name 'ziglang-*' ! -name '*.tmp.*' -printf '%f\n' 2>/dev/null |
    sed 's/^ziglang-//' | sort -V | tail -n 1)
  [ -n "$ziglang_newest" ] || { echo "and no ziglang cached in $zig_cache" >&2; return 1; }
  echo "so the newest ziglang cached: $ziglang_newest"
}

# One word for build.sh --cc (as the construct does for multi-word commands); BIN, if given, goes first on PATH.
wrapper() {
  local name=$1 command=$2 bin=${3:-}
  printf '#!/bin/sh\n%sexec %s "$@"\n' "${bin:+PATH=$bin:\$PATH }" "$command" >"$scratch/cc-$name"
  chmod +x "$scratch/cc-$name"
  echo "$scratch/cc-$name"
}

compiler() {
  local name=$1 arch=$2 command=$3 bin=${4:-} cc out
  cc=$(wrapper "$name" "$command" "$bin")
  out=$scratch/lib/$name
  check "build $name" sh "$repo/layer/build.sh" --arch "$arch" --cc "$cc" --werror --out "$out"
  [ -f "$out/shm_redirect.so" ] || return 0
  check "audit $name" audit "$arch" "$out/shm_redirect.so"
  check "c-tests $name" sh "$repo/layer/test/run.sh" --arch "$arch" --mode native --lib "$out/shm_redirect.so" \
    --work "$scratch/ctests-$name"
}

# zig_compilers VERSION: zig cc of that ziglang for both architectures, and its x86_64 library on glibc 2.31.
zig_compilers() {
  local version=$1 zig_bin=
  check "ziglang $version" ensure_zig "$version"
  [ -n "$zig_bin" ] || return 0
  compiler "zig-$version-x86_64" x86_64 "zig cc -target x86_64-linux-gnu.2.26" "$zig_bin"
  compiler "zig-$version-arm64" arm64 "zig cc -target aarch64-linux-gnu.2.26" "$zig_bin"
  [ ! -f "$scratch/lib/zig-$version-x86_64/shm_redirect.so" ] ||
    check "glibc-2.31 zig-$version-x86_64" bash "$repo/test/library/run-bullseye.sh" \
      --lib "$scratch/lib/zig-$version-x86_64/shm_redirect.so"
}

compiler gcc-12 x86_64 gcc-12
compiler gcc-11 x86_64 gcc-11
compiler aarch64-linux-gnu-gcc arm64 aarch64-linux-gnu-gcc
compiler clang-x86_64 x86_64 "clang --target=x86_64-linux-gnu"
compiler clang-arm64 arm64 "clang --target=aarch64-linux-gnu"
zig_compilers "$ZIGLANG_PINNED"
ziglang_newest=
check "newest ziglang" find_newest_zig
if [ "$ziglang_newest" = "$ZIGLANG_PINNED" ]; then
  echo "$stage: the newest ziglang is the pinned one"
elif [ -n "$ziglang_newest" ]; then
  zig_compilers "$ziglang_newest"
fi
finish
