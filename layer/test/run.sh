#!/bin/sh
# The one runner of the library's C tests (layer/test/t_*.c), for every environment they run in: compiles
# them, runs each with the library preloaded, counts the TAP lines, and ends with
# "c-tests: N passed, M failed" (N and M count checks; a test that exits non-zero without a "not ok" line
# counts as one failure, and a run without a single check fails).
#
#   native             the host, with its /dev/shm
#   sandbox            test/tools/lambda-sandbox.sh (no /dev/shm), as root; also the cases only a sandbox
#                      can make: no /proc (t_semfallback), a redirect directory on a ramfs (t_reclaim),
#                      and real programs (programs.sh, host architecture only)
#   sandbox --rootfs   inside a root filesystem: the tests compiled against its glibc (the host's would ask
#                      for newer symbol versions), run as Lambda's user with a read-only root
#
# t_enospc always gets a sandbox of its own with a full-able 8 MiB ext4 /tmp (natively it is skipped).
# arm64 on an x86_64 host runs under qemu-aarch64-static, or through binfmt_misc in a root filesystem.
set -eu

usage() {
    echo "usage: sh layer/test/run.sh --arch x86_64|arm64 --mode native|sandbox [--rootfs DIR] [--lib FILE] [--cc CC] [--work DIR]"
    echo "  --rootfs DIR  (sandbox) run in this root filesystem, compiled against its glibc, as uid 993"
    echo "  --lib FILE    test this shm_redirect.so (default: layer/build/ARCH/shm_redirect.so, built if missing)"
    echo "  --cc CC       compiler of the tests (default: cc, or aarch64-linux-gnu-gcc for arm64 on x86_64)"
    echo "  --work DIR    where the test binaries and logs go (default: layer/build/ARCH/tests)"
}
arch= mode= cc= lib= rootfs= work= inner= emulated= qemu=
while [ $# -gt 0 ]; do
    case $1 in
    --arch) arch=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --rootfs) rootfs=$2; shift 2 ;;
    --lib) lib=$2; shift 2 ;;
    --cc) cc=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    # Used by the runner itself, inside the sandbox.
    --inner) inner=1; shift ;;
    --emulated) emulated=1; shift ;;
    --qemu) qemu=1 emulated=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done

# Runs every test binary in BIN with LIB preloaded; prints the TAP lines and the summary.  Runs where the
# tests run: directly (native), or inside the sandbox through --inner.  EMU is the emulator's command
# line, if any.
run_all() {
    passed=0 failed=0
    for t in "$bin"/t_*; do
        name=$(basename "$t")
        [ "$name" = t_enospc ] && [ -z "${SHMR_TEST_ENOSPC:-}" ] && continue
        echo "# $name ($arch, $mode)"
        if [ "$name" = t_semfork ] && [ -n "$emulated" ]; then
            # qemu-user itself deadlocks now and then in a child forked while other threads run
            # (3 hangs in 8 runs here), with or without the library; natively it never does.
            echo "# SKIP $name under qemu-user: fork amid threads is unreliable in the emulator"
            continue
        fi
        # A hung test fails instead of stalling the run.  Under qemu the library goes to the test alone
        # (qemu's -E): the host's timeout would only warn that an arm64 library cannot be preloaded.
        if [ -n "$emu" ]; then
            out=$(cd /tmp && timeout -k 5 120 $emu -E LD_PRELOAD="$lib" "$t" 2>&1) && rc=0 || rc=$?
        else
            out=$(cd /tmp && env LD_PRELOAD="$lib" timeout -k 5 120 "$t" 2>&1) && rc=0 || rc=$?
        fi
        printf '%s\n' "$out"
        p=$(printf '%s\n' "$out" | grep -c '^ok ' || true)
        f=$(printf '%s\n' "$out" | grep -c '^not ok ' || true)
        if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
            echo "not ok - $name exited with status $rc"
            f=1
        fi
        passed=$((passed + p))
        failed=$((failed + f))
    done
    echo "${summary:-c-tests}: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

if [ -n "$inner" ]; then
    bin=$(dirname "$0")/bin
    emu=${qemu:+qemu-aarch64-static -L /usr/aarch64-linux-gnu}
    summary="# in the sandbox"
    run_all
    exit
fi

case $arch/$mode in
x86_64/native | x86_64/sandbox | arm64/native | arm64/sandbox) ;;
*) usage >&2; exit 2 ;;
esac
[ -z "$rootfs" ] || [ "$mode" = sandbox ] || { echo "run.sh: --rootfs needs --mode sandbox" >&2; exit 2; }

layer=$(cd "$(dirname "$0")/.." && pwd)
repo=$(cd "$layer/.." && pwd)
host=$(uname -m | sed 's/aarch64/arm64/')
triplet=$(echo "$arch" | sed 's/arm64/aarch64/')-linux-gnu
lib=${lib:-$layer/build/$arch/shm_redirect.so}
work=${work:-$layer/build/$arch/tests}
bin=$work/bin

emu=
if [ "$arch" != "$host" ]; then
    emulated=1
    if [ -n "$rootfs" ]; then
        : # binfmt_misc runs the root filesystem's programs (test/tools/ensure-rootfs.sh registers qemu)
    elif [ "$arch" = arm64 ] && command -v qemu-aarch64-static >/dev/null 2>&1 && [ -d /usr/aarch64-linux-gnu ]; then
        emu="qemu-aarch64-static -L /usr/aarch64-linux-gnu"
        SHMR_TEST_QEMU="qemu-aarch64-static /usr/aarch64-linux-gnu"
        export SHMR_TEST_QEMU
    else
        echo "# SKIP: $arch tests need qemu-aarch64-static and libc6-arm64-cross (apt-get install qemu-user-static libc6-dev-arm64-cross gcc-aarch64-linux-gnu)"
        echo "c-tests: 0 passed, 0 failed"
        exit 0
    fi
fi

[ -f "$lib" ] || sh "$layer/build.sh" --arch "$arch" --werror --out "$(dirname "$lib")"
if [ -z "$cc" ]; then
    if [ "$arch" = "$host" ]; then cc=cc; else cc=$triplet-gcc; fi
fi
if [ -n "$rootfs" ]; then
    set -- --sysroot="$rootfs" -isystem "$rootfs/usr/include/$triplet" -isystem "$rootfs/usr/include" \
        -B"$rootfs/usr/lib/$triplet/" -L"$rootfs/usr/lib/$triplet"
else
    set --
fi
mkdir -p "$bin"
for src in "$layer"/test/t_*.c; do
    exe=$bin/$(basename "$src" .c)
    stale=0
    for dep in "$src" "$layer"/test/*.h; do [ "$dep" -nt "$exe" ] && stale=1; done
    if [ ! -f "$exe" ] || [ "$stale" = 1 ]; then
        # librt: shm_open lived there before glibc 2.34.
        "$cc" "$@" -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -pthread -o "$exe" "$src" -lrt -ldl
    fi
done

if [ "$mode" = native ]; then
    run_all
    exit
fi

# The sandbox: the runner runs itself inside.  In a root filesystem the library and the binaries are bound
# where a layer and a test would be; on the host they are seen where they are.
sandbox="bash $repo/test/tools/lambda-sandbox.sh"
cp "$layer/test/run.sh" "$work/run.sh"
mkdir -p "$work/lib"
cp "$lib" "$work/lib/shm_redirect.so"
if [ -n "$rootfs" ]; then
    at=/opt/clm-tests/c
    set -- --rootfs "$rootfs" --user 993:990 --bind "$work/lib:/opt/lib:ro" --bind "$work:$at:ro" --workdir /tmp
    preload=/opt/lib/shm_redirect.so
else
    at=$work
    set -- --workdir /tmp
    preload=$work/lib/shm_redirect.so
fi
status=0
$sandbox "$@" ${rootfs:+--read-only} -- env -i PATH=/usr/local/bin:/usr/bin:/bin ${SHMR_TEST_QEMU:+SHMR_TEST_QEMU="$SHMR_TEST_QEMU"} \
    sh "$at/run.sh" --inner --arch "$arch" --mode sandbox --lib "$preload" ${emulated:+--emulated} ${emu:+--qemu} \
    >"$work/sandbox.log" 2>&1 || status=$?
# A full /tmp (a small ext4 image) for the ENOSPC test.
if [ -n "$emu" ]; then run="$emu -E LD_PRELOAD=$preload"; else run="env LD_PRELOAD=$preload"; fi
$sandbox "$@" --tmp-image 8 -- env -i PATH=/usr/local/bin:/usr/bin:/bin SHMR_TEST_ENOSPC=1 ${SHMR_TEST_QEMU:+SHMR_TEST_QEMU="$SHMR_TEST_QEMU"} \
    sh -c "cd /tmp && exec $run $at/bin/t_enospc" >"$work/enospc.log" 2>&1 || status=$?
logs="$work/sandbox.log $work/enospc.log"
if [ -z "$rootfs" ]; then
    # No /proc: sem_open cannot link an unnamed file and takes its fallback.
    mkdir -p "$work/empty"
    $sandbox "$@" -- sh -c "mount -n --bind '$work/empty' /proc && cd /tmp && SHMR_TEST_NO_PROC=1 exec $run $at/bin/t_semfallback" \
        >"$work/noproc.log" 2>&1 || status=$?
    # A redirect directory on a ramfs (no inode generations, no block counts): the same rule.  The registry
    # too: no fallocate, so the records' blocks are allocated by writing zeros.
    $sandbox "$@" -- sh -c "mkdir /tmp/shm /tmp/shm.reclaim && mount -t ramfs -o mode=1777 ramfs /tmp/shm && mount -t ramfs -o mode=1777 ramfs /tmp/shm.reclaim && cd /tmp && SHMR_TEST_RAMFS=1 exec $run $at/bin/t_reclaim" \
        >"$work/ramfs.log" 2>&1 || status=$?
    logs="$logs $work/noproc.log $work/ramfs.log"
    # Real programs (coreutils, python3) are the host's: only for its own architecture.
    if [ -z "$emu" ]; then
        $sandbox "$@" --tmp-image 8 -- env LD_PRELOAD="$preload" python3 "$repo/test/library/python/full_disk.py" \
            >"$work/full-disk-python.log" 2>&1 || status=$?
        logs="$logs $work/full-disk-python.log"
        $sandbox "$@" -- sh "$layer/test/programs.sh" "$preload" >"$work/programs.log" 2>&1 || status=$?
        logs="$logs $work/programs.log"
    fi
fi
# shellcheck disable=SC2086 # $logs is a list of plain paths
cat $logs
# shellcheck disable=SC2086
p=$(cat $logs | grep -c '^ok ' || true)
# shellcheck disable=SC2086
f=$(cat $logs | grep -c '^not ok ' || true)
if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "not ok - a sandbox run exited with status $status"
    f=1
fi
[ "$p" -gt 0 ] || { echo "not ok - no check ran"; f=$((f + 1)); }
echo "c-tests: $p passed, $f failed"
[ "$f" -eq 0 ]
