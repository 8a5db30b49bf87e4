#!/bin/sh
# Builds shm_redirect.so for one architecture.  The only place the
# library's compiler and linker flags live.
set -eu

usage() {
    cat <<'USAGE'
usage: sh layer/build.sh --arch x86_64|arm64 [--cc CC] --out DIR

Compiles layer/src/*.c into DIR/shm_redirect.so.
  --arch   target architecture (x86_64 or arm64)
  --cc     C compiler (default: cc for the host architecture,
           aarch64-linux-gnu-gcc / x86_64-linux-gnu-gcc when cross-building)
  --out    output directory (created if missing)
USAGE
}

die() {
    echo "build.sh: $*" >&2
    exit 2
}

arch= cc= out=
while [ $# -gt 0 ]; do
    case $1 in
    --arch) [ $# -ge 2 ] || die "--arch needs a value"; arch=$2; shift 2 ;;
    --cc) [ $# -ge 2 ] || die "--cc needs a value"; cc=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
    esac
done
[ -n "$arch" ] || { usage >&2; die "--arch is required"; }
[ -n "$out" ] || { usage >&2; die "--out is required"; }

case $arch in
x86_64) triple=x86_64 ;;
arm64) triple=aarch64 ;;
*) die "unsupported --arch '$arch' (expected x86_64 or arm64)" ;;
esac

host=$(uname -m)
if [ -z "$cc" ]; then
    if [ "$host" = "$triple" ]; then cc=cc; else cc=$triple-linux-gnu-gcc; fi
fi
command -v "$cc" >/dev/null 2>&1 || die "compiler '$cc' not found (for arm64 on x86_64: apt-get install gcc-aarch64-linux-gnu)"
target=$("$cc" -dumpmachine)
case $target in
"$triple"-*) ;;
*) die "compiler '$cc' targets '$target', not $arch" ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Sorted, locale-independent source order keeps the output byte-identical.
LC_ALL=C
export LC_ALL
srcs=$(cd "$here" && ls src/*.c)

# -z now is deliberately absent: with lazy binding a libc symbol this glibc
# lacks could only fail the call that needs it, never stop every process
# at start-up (the audit keeps every symbol version <= GLIBC_2.26 anyway).
# libdl.so.2 is named explicitly because dlsym must resolve in programs that
# never load it themselves (on glibc < 2.34 it lives only there).
cd "$here"
# shellcheck disable=SC2086 # $srcs is a list of plain file names
"$cc" -std=c11 -D_GNU_SOURCE -U_FORTIFY_SOURCE -O2 -fPIC -shared \
    -Wall -Wextra -Werror -fvisibility=hidden -fno-strict-aliasing \
    -fno-delete-null-pointer-checks \
    -ffile-prefix-map="$here"=. \
    -Wl,-z,defs -Wl,-z,noexecstack -Wl,-z,relro -Wl,--build-id=none \
    -Wl,--hash-style=gnu -Wl,-soname,shm_redirect.so \
    -o "$out/shm_redirect.so.tmp" $srcs \
    -Wl,--no-as-needed -l:libdl.so.2 -Wl,--as-needed
mv "$out/shm_redirect.so.tmp" "$out/shm_redirect.so"
echo "built $out/shm_redirect.so ($arch, $("$cc" -dumpversion))"
