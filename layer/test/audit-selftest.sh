#!/bin/sh
# The audit must reject what would break Lambda: objects needing a too new
# glibc, an executable stack, or a wrong machine.  Builds such objects and
# checks that audit.sh refuses each one for the stated reason.
set -eu
[ "${1:-}" = --arch ] && [ -n "${2:-}" ] || { echo "usage: sh layer/test/audit-selftest.sh --arch x86_64|arm64" >&2; exit 2; }
arch=$2
layer=$(cd "$(dirname "$0")/.." && pwd)
case $arch in
x86_64) other=arm64 ;;
arm64) other=x86_64 ;;
*) echo "audit-selftest: unsupported arch $arch" >&2; exit 2 ;;
esac
host=$(uname -m | sed 's/aarch64/arm64/')
if [ "$arch" = "$host" ]; then cc=cc; else cc=$(echo "$arch" | sed 's/arm64/aarch64/')-linux-gnu-gcc; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0 failed=0
expect_reject() { # NAME PATTERN FILE [ARCH]
    if out=$(sh "$layer/audit.sh" --arch "${4:-$arch}" "$3" 2>&1); then
        echo "not ok - audit accepted $1"
        failed=$((failed + 1))
    elif printf '%s\n' "$out" | grep -q "$2"; then
        echo "ok - audit rejects $1"
        passed=$((passed + 1))
    else
        echo "not ok - audit rejected $1 for another reason: $out"
        failed=$((failed + 1))
    fi
}

# sem_init@GLIBC_2.34 and fstat@GLIBC_2.33: what the published shim links.
cat >"$work/new.c" <<'C'
#include <semaphore.h>
#include <sys/stat.h>
int f(sem_t *s, struct stat *st) { return sem_init(s, 1, 0) + fstat(0, st); }
C
"$cc" -shared -fPIC -O2 -o "$work/new.so" "$work/new.c" -Wl,--no-as-needed -l:libdl.so.2
expect_reject "a glibc 2.33/2.34 symbol" 'newer than the GLIBC_2.26 floor' "$work/new.so"

printf 'int f(void) { return 0; }\n' >"$work/plain.c"
"$cc" -shared -fPIC -o "$work/stack.so" "$work/plain.c" -Wl,-z,execstack -Wl,--no-as-needed -l:libdl.so.2
expect_reject "an executable stack" 'non-executable stack' "$work/stack.so"

"$cc" -shared -fPIC -o "$work/nodl.so" "$work/plain.c"
expect_reject "a missing libdl.so.2" 'missing DT_NEEDED libdl.so.2' "$work/nodl.so"

"$cc" -shared -fPIC -o "$work/m.so" "$work/plain.c" -Wl,--no-as-needed -lm -l:libdl.so.2
expect_reject "an unexpected DT_NEEDED" 'unexpected DT_NEEDED libm' "$work/m.so"

expect_reject "the wrong machine" "expected" "$layer/build/$arch/shm_redirect.so" "$other"

echo "audit-selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
