#!/bin/sh
# ELF audit of a built shm_redirect.so: everything that would make the
# dynamic linker reject it, or silently skip it, on a Lambda runtime.
set -eu

usage() {
    cat <<'USAGE'
usage: sh layer/audit.sh --arch x86_64|arm64 FILE.so

Fails (exit 1) on: wrong ELF machine or class, any GLIBC_ symbol version
newer than 2.26 or GLIBC_PRIVATE, a DT_NEEDED other than libc.so.6,
libdl.so.2 and libpthread.so.0 (zig links it for its glibc 2.26 target;
every glibc has it), a missing DT_NEEDED libdl.so.2, an executable or missing GNU_STACK, text relocations, or an
exported symbol not listed in layer/exports.txt.  Needs readelf (binutils);
set READELF to use another one.
USAGE
}

arch= file=
while [ $# -gt 0 ]; do
    case $1 in
    --arch) [ $# -ge 2 ] || { usage >&2; exit 2; }; arch=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) usage >&2; echo "audit.sh: unknown option $1" >&2; exit 2 ;;
    *) [ -z "$file" ] || { usage >&2; exit 2; }; file=$1; shift ;;
    esac
done
[ -n "$arch" ] && [ -n "$file" ] || { usage >&2; exit 2; }
[ -f "$file" ] || { echo "audit.sh: no such file: $file" >&2; exit 2; }

case $arch in
x86_64) machine='Advanced Micro Devices X86-64' ;;
arm64) machine='AArch64' ;;
*) echo "audit.sh: unsupported --arch '$arch' (expected x86_64 or arm64)" >&2; exit 2 ;;
esac

READELF=${READELF:-readelf}
command -v "$READELF" >/dev/null 2>&1 || { echo "audit.sh: $READELF not found (apt-get install binutils)" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
LC_ALL=C
export LC_ALL

failures=0
fail() {
    echo "audit FAIL: $file: $*" >&2
    failures=$((failures + 1))
}

header=$("$READELF" -hW "$file")
got_machine=$(printf '%s\n' "$header" | sed -n 's/^ *Machine: *//p')
[ "$got_machine" = "$machine" ] || fail "ELF machine is '$got_machine', expected '$machine' for $arch"
printf '%s\n' "$header" | grep -q 'Class: *ELF64' || fail "not a 64-bit ELF"
printf '%s\n' "$header" | grep -q 'Type: *DYN' || fail "not a shared object"

# Every GLIBC_x.y[.z] the library needs, from the version-needs section.
for v in $("$READELF" -VW "$file" | sed -n 's/.*Name: \(GLIBC_[^ ]*\).*/\1/p' | sort -u); do
    case $v in
    GLIBC_2.*)
        minor=$(printf '%s\n' "$v" | sed 's/^GLIBC_2\.\([0-9]*\).*/\1/')
        [ "$minor" -le 26 ] || fail "needs $v, newer than the GLIBC_2.26 floor (AL2 Lambda runtimes)"
        ;;
    *) fail "needs $v, not a public glibc 2.x version" ;;
    esac
done

dynamic=$("$READELF" -dW "$file")
for lib in $(printf '%s\n' "$dynamic" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    case $lib in
    libc.so.6 | libdl.so.2 | libpthread.so.0) ;;
    *) fail "unexpected DT_NEEDED $lib" ;;
    esac
done
printf '%s\n' "$dynamic" | grep -q 'NEEDED.*\[libdl.so.2\]' ||
    fail "missing DT_NEEDED libdl.so.2 (dlsym would be unresolved in programs that do not load libdl on glibc < 2.34)"
if printf '%s\n' "$dynamic" | grep -Eq '\(TEXTREL\)|FLAGS.*TEXTREL'; then
    fail "has text relocations"
fi

stack=$("$READELF" -lW "$file" | awk '$1 == "GNU_STACK" { print $(NF-1) }')
case $stack in
RW) ;;
'') fail "no GNU_STACK header (the stack would default to executable)" ;;
*) fail "GNU_STACK flags '$stack', expected RW (non-executable stack)" ;;
esac

exports=$("$READELF" --dyn-syms -W "$file" |
    awk '$7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") && $4 != "NOTYPE" { sub(/@.*/, "", $8); print $8 }' | sort -u)
unexpected=$(printf '%s\n' "$exports" | grep -vxF -f "$here/exports.txt" || true)
[ -z "$unexpected" ] || fail "exports symbols not in exports.txt: $(echo $unexpected)"
missing=$(printf '%s\n' "$exports" | grep -vxF -f - "$here/exports.txt" || true)
[ -z "$missing" ] || fail "does not export: $(echo $missing)"

if [ "$failures" -ne 0 ]; then
    echo "audit: $file: $failures problem(s)" >&2
    exit 1
fi
echo "audit ok: $file ($arch, $(echo "$exports" | wc -l) exports, max $("$READELF" -VW "$file" | sed -n 's/.*Name: \(GLIBC_[^ ]*\).*/\1/p' | sort -t. -k2,2n -k3,3n | tail -1))"
