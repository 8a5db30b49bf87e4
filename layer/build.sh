#!/bin/sh
# Builds shm_redirect.so for one architecture.  The only place the
# library's compiler and linker flags live.
set -eu

usage() {
    cat <<'USAGE'
usage: sh layer/build.sh --arch x86_64|arm64 [--cc CC] [--werror] --out DIR

Compiles layer/src/*.c into DIR/shm_redirect.so.
  --arch    target architecture (x86_64 or arm64)
  --cc      C compiler (default: cc for the host architecture,
            aarch64-linux-gnu-gcc / x86_64-linux-gnu-gcc when cross-building)
  --werror  turn warnings into errors (the project's own builds; never a
            user's synth, where a newer compiler's new warning must not fail)
  --out     output directory (created if missing)
USAGE
}

die() {
    echo "build.sh: $*" >&2
    exit 2
}

arch= cc= out= werror=
while [ $# -gt 0 ]; do
    case $1 in
    --arch) [ $# -ge 2 ] || die "--arch needs a value"; arch=$2; shift 2 ;;
    --cc) [ $# -ge 2 ] || die "--cc needs a value"; cc=$2; shift 2 ;;
    --out) [ $# -ge 2 ] || die "--out needs a value"; out=$2; shift 2 ;;
    --werror) werror=-Werror; shift ;;
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
if ! command -v "$cc" >/dev/null 2>&1; then
    if [ "$host" = "$triple" ]; then
        die "no C compiler '$cc' here (a build image needs gcc: dnf install gcc on Amazon Linux, apt-get install gcc on Debian/Ubuntu)"
    fi
    die "compiler '$cc' not found (for arm64 on x86_64: apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross)"
fi
# What the compiler builds for, from its predefined macros rather than
# -dumpmachine: zig 0.17 rejects -dumpmachine and -dumpversion when the target
# names a glibc version (-target aarch64-linux-gnu.2.26), yet compiles with it.
macros=$("$cc" -E -dM -x c /dev/null) || die "compiler '$cc' cannot preprocess an empty C file"
defined() {
    printf '%s\n' "$macros" | grep -q "^#define $1 "
}
if defined __x86_64__; then machine=x86_64
elif defined __aarch64__; then machine=aarch64
else machine='another architecture'
fi
if defined __linux__; then os=linux
elif defined __APPLE__; then os=darwin
elif defined _WIN32; then os=windows
else os='another OS'
fi
target="$machine-$os"
[ "$target" = "$triple-linux" ] || die "compiler '$cc' targets '$target', not $arch"
version=$(printf '%s\n' "$macros" | sed -n 's/^#define __VERSION__ "\(.*\)"$/\1/p')

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Sorted, locale-independent source order keeps the output byte-identical.
LC_ALL=C
export LC_ALL
srcs=$(cd "$here" && ls src/*.c)
tmp=$out/.shm_redirect.build
rm -rf "$tmp"
mkdir "$tmp"
trap 'rm -rf "$tmp"' EXIT

# Only the symbols of exports.txt are exported, whatever the compiler links
# in by itself (zig adds its compiler_rt and ssp helpers with default
# visibility).
{
    echo '{ global:'
    sed 's/$/;/' "$here/exports.txt"
    echo 'local: *; };'
} >"$tmp/exports.map"

# libdl.so.2 is named explicitly because dlsym must resolve in programs that
# never load it themselves (on glibc < 2.34 it lives only there).  By file
# name where the toolchain has the file (glibc >= 2.34 keeps only an empty
# libdl.a for -ldl); zig's per-version glibc stubs exist only as -ldl, which
# for its 2.26 target is libdl.so.2.  audit.sh checks the DT_NEEDED either way.
echo 'int shm_redirect_link_probe;' >"$tmp/probe.c"
if "$cc" -shared -o "$tmp/probe.so" "$tmp/probe.c" -l:libdl.so.2 >/dev/null 2>&1; then
    libdl=-l:libdl.so.2
else
    libdl=-ldl
fi

# -z now is deliberately absent: with lazy binding a libc symbol this glibc
# lacks could only fail the call that needs it, never stop every process
# at start-up (the audit keeps every symbol version <= GLIBC_2.26 anyway).
cd "$here"
# shellcheck disable=SC2086 # $srcs is a list of plain file names
"$cc" -std=c11 -D_GNU_SOURCE -U_FORTIFY_SOURCE -O2 -fPIC -shared \
    -Wall -Wextra $werror -fvisibility=hidden -fno-strict-aliasing \
    -fno-delete-null-pointer-checks \
    -ffile-prefix-map="$here"=. \
    -Wl,-z,defs -Wl,-z,noexecstack -Wl,-z,relro -Wl,--build-id=none \
    -Wl,--hash-style=gnu -Wl,-soname,shm_redirect.so \
    -Wl,--version-script="$tmp/exports.map" \
    -o "$out/shm_redirect.so.tmp" $srcs \
    -Wl,--no-as-needed $libdl -Wl,--as-needed
mv "$out/shm_redirect.so.tmp" "$out/shm_redirect.so"
echo "built $out/shm_redirect.so ($arch, ${version:-compiler version unknown})"
