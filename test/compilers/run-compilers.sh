#!/usr/bin/env bash
# Stage: every compiler the README and the construct's probe name builds a library that passes the audit and the
# C tests (natively for x86_64, under qemu-aarch64-static for arm64): gcc 12, gcc 11 (the AL2023 build image's
# major), aarch64-linux-gnu-gcc, clang --target= and zig cc (PyPI ziglang, glibc 2.26 target) for both
# architectures. The project's own builds, so with --werror. Needs gcc-11, clang, lld, gcc-aarch64-linux-gnu,
# qemu-user-static (test/deps/debian.txt lists them); ziglang is pip-installed into the shared cache here.
source "$(dirname "$0")/../library/common.sh"
parse_args "Checks, for each compiler and architecture:
  build NAME   layer/build.sh --werror --cc NAME
  audit NAME   layer/audit.sh
  c-tests NAME layer/test/run.sh --mode native --lib (the library just built)
  glibc-2.31 zig-x86_64  test/library/run-bullseye.sh --lib: zig links its own glibc 2.26 stubs (and
               names libpthread.so.0), so its library also runs on the old glibc, sh and cat included" "$@"

ZIGLANG_VERSION=0.13.0.post1
zig_venv=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}/ziglang-$ZIGLANG_VERSION

ensure_zig() {
  if [ ! -x "$zig_venv/bin/python" ] || ! "$zig_venv/bin/python" -m ziglang version >/dev/null 2>&1; then
    rm -rf "$zig_venv.tmp"
    python3 -m venv "$zig_venv.tmp" && "$zig_venv.tmp/bin/pip" install -q "ziglang==$ZIGLANG_VERSION" || return 1
    rm -rf "$zig_venv" && mv "$zig_venv.tmp" "$zig_venv"
  fi
  # The shim sits on PATH as `zig`, as a Homebrew or tarball zig would.
  mkdir -p "$scratch/bin"
  printf '#!/bin/sh\nexec %s -m ziglang "$@"\n' "$zig_venv/bin/python" >"$scratch/bin/zig"
  chmod +x "$scratch/bin/zig"
  "$scratch/bin/zig" version
}

# One word for build.sh --cc (as the construct does for multi-word commands).
wrapper() {
  local name=$1 command=$2
  printf '#!/bin/sh\nPATH=%s:$PATH exec %s "$@"\n' "$scratch/bin" "$command" >"$scratch/cc-$name"
  chmod +x "$scratch/cc-$name"
  echo "$scratch/cc-$name"
}

compiler() {
  local name=$1 arch=$2 command=$3 cc out
  cc=$(wrapper "$name" "$command")
  out=$scratch/lib/$name
  check "build $name" sh "$repo/layer/build.sh" --arch "$arch" --cc "$cc" --werror --out "$out"
  [ -f "$out/shm_redirect.so" ] || return 0
  check "audit $name" audit "$arch" "$out/shm_redirect.so"
  check "c-tests $name" sh "$repo/layer/test/run.sh" --arch "$arch" --mode native --lib "$out/shm_redirect.so"
}

check "ziglang $ZIGLANG_VERSION" ensure_zig
compiler gcc-12 x86_64 gcc-12
compiler gcc-11 x86_64 gcc-11
compiler aarch64-linux-gnu-gcc arm64 aarch64-linux-gnu-gcc
compiler clang-x86_64 x86_64 "clang --target=x86_64-linux-gnu"
compiler clang-arm64 arm64 "clang --target=aarch64-linux-gnu"
compiler zig-x86_64 x86_64 "zig cc -target x86_64-linux-gnu.2.26"
compiler zig-arm64 arm64 "zig cc -target aarch64-linux-gnu.2.26"
[ ! -f "$scratch/lib/zig-x86_64/shm_redirect.so" ] ||
  check "glibc-2.31 zig-x86_64" bash "$repo/test/library/run-bullseye.sh" --lib "$scratch/lib/zig-x86_64/shm_redirect.so"
finish
