#!/usr/bin/env bash
# Stage: Lambda's newest Python runtime, python3.14 (the first whose default start method on Linux is
# forkserver), on the newest glibc at hand, 2.43 (Debian forky), x86_64, inside the Lambda-like sandbox; the
# library also built there by gcc 16. python3.15, not yet a Lambda runtime, is run and reported, never failed.
# Needs: mmdebstrap (installed by test/tools/ensure-rootfs.sh), gcc.
#
# CPython's own multiprocessing suites are compared with a native run of the same interpreter (a /dev/shm, no
# library): the counts must be equal. The native counts depend only on the root filesystem, so they are kept
# in the cache under its stamp's hash and the native run is made only when that changes.
source "$(dirname "$0")/common.sh"
parse_args "Checks, in a forky-amd64 root filesystem (glibc 2.43), as Lambda's user with a read-only root:
  build          layer/build.sh (skipped with --lib)
  rootfs         test/tools/ensure-rootfs.sh forky-amd64 and forky-amd64-gcc (built on first use, then cached)
  audit          layer/audit.sh on the library
  control        without the library multiprocessing fails as on AL2023: FileNotFoundError: [Errno 2]
  programs       /bin/sh, cat and ls run with the library preloaded
  python 3.14    test/library/python under fork, spawn and forkserver
  c-tests        layer/test/t_*.c compiled against glibc 2.43, run in the sandbox
  gcc-16 build   layer/build.sh --werror with forky's gcc 16 (in a chroot), then its audit and c-tests
  examples 3.14  the example functions (test/integration/python314-app.ts) as python3.14 through aws-lambda-rie on
                 forky's python3.14 (test/integration/invoker.py); README.md's runtime table row matches the run
  cpython control without the library CPython skips all three multiprocessing suites (the sandbox has no
                 /dev/shm)
  cpython 3.14   test_multiprocessing_fork, _spawn and _forkserver with the library and no /dev/shm: no
                 failure, and the counts (run, skipped, failed) of a native run (a /dev/shm, no library)
Reported, never failed (python3.15 is no Lambda runtime yet): python 3.15, and cpython 3.15 (the library must
give what the native run gives, failures included).
CLM_FORKY_ARCH=arm64: the same in forky-arm64 under qemu-user, without gcc 16 and the examples (not in CI:
the filesystem and the suites under emulation take long). CLM_CPYTHON_JOBS (default 6) is regrtest's -j." "$@"

arch=${CLM_FORKY_ARCH:-x86_64}
case "$arch" in
  x86_64) name=forky-amd64 ;;
  arm64) name=forky-arm64
         command -v aarch64-linux-gnu-gcc >/dev/null || die "needs aarch64-linux-gnu-gcc (apt-get install gcc-aarch64-linux-gnu)" ;;
  *) die "CLM_FORKY_ARCH is x86_64 or arm64, not $arch" ;;
esac

suites=(test_multiprocessing_fork test_multiprocessing_spawn test_multiprocessing_forkserver)
cpython_jobs=${CLM_CPYTHON_JOBS:-6}
native_cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}/cpython-native
reported=()

# Like check, but a failure is printed and listed, not counted.
report() {
  local name=$1 start rc=0
  shift
  start=$(date +%s)
  echo "--- $stage: $name (reported, not counted)"
  "$@" || rc=$?
  if [ "$rc" = 0 ]; then reported+=("ok     $name"); else reported+=("FAILED $name (exit $rc)"); fi
  echo "--- REPORTED $name: $([ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc)") ($(($(date +%s) - start)) s)"
}

# Debian byte-compiles pytest for its default python3 only: every spawn and forkserver child of python3.15
# would compile it again (twice the CPU time of the suite), so byte code is written, under /tmp.
python_suite_with() {
  in_rootfs "$1" "$2" LD_PRELOAD=/opt/lib/shm_redirect.so PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=/tmp/pycache \
    "$3" -m pytest -p no:cacheprovider -q /opt/clm-tests/python
}

# gcc 16 compiles in its own root filesystem (glibc 2.43's headers), the checkout bound read-only at /mnt and
# the output directory at /tmp: directories every Debian root has, so the cached filesystem is left as it was.
build_with_gcc16() {
  local gcc_root=$1 out=$scratch/lib/gcc-16
  mkdir -p "$out"
  unshare --mount --propagation private -- bash -c '
    set -e
    mount --bind "$1" "$1"
    mount --bind "$2" "$1/mnt"
    mount -o remount,bind,ro "$1/mnt"
    mount --bind "$3" "$1/tmp"
    mount -t proc proc "$1/proc"
    chroot "$1" sh -c "gcc-16 --version | head -n 1 && sh /mnt/layer/build.sh --arch x86_64 --cc gcc-16 --werror --out /tmp"
  ' gcc16 "$gcc_root" "$repo" "$out"
}

# One regrtest run in a line, from its own summary and progress lines: the counts of tests run, skipped and
# failed, and the test files that failed. "Total test files: run=N/N" says every file ran: a suite CPython
# skips whole (without the library: "broken multiprocessing SemLock") still ends in SUCCESS.
regrtest_summary() {
  local line files failed
  line=$(grep -E '^Total tests: ' "$1" | tail -n 1) || { echo "no 'Total tests' line"; return 1; }
  line=${line//,/}
  files=$(grep -E '^Total test files: ' "$1" | tail -n 1)
  failed=$(sed -n 's/.*\] \(test_[A-Za-z0-9_.]*\) failed.*/\1/p' "$1" | sort -u | paste -sd, -)
  echo "run=$(sed -n 's/.*run=\([0-9]*\).*/\1/p' <<<"$line")" \
    "skipped=$(sed -n 's/.*skipped=\([0-9]*\).*/\1/p' <<<"$line" | grep . || echo 0)" \
    "failures=$(sed -n 's/.*failures=\([0-9]*\).*/\1/p' <<<"$line" | grep . || echo 0)" \
    "all-files-ran=$(grep -Eq '^Total test files: run=([0-9]+)/\1( failed=[0-9]+)?$' <<<"$files" && echo yes || echo no)" \
    "failed-files=${failed:-none}"
}

cpython_args() {
  echo "-m test ${suites[*]} -j$cpython_jobs --timeout 1800"
}

# Without the library CPython finds multiprocessing broken and skips every file of the suites, yet ends in
# SUCCESS: what the counts with the library are compared against is a suite that really ran.
cpython_control() {
  local log=$scratch/cpython-control.log
  # shellcheck disable=SC2046 # the arguments are words
  in_rootfs "$root" "$lib" HOME=/tmp python3.14 $(cpython_args) >"$log" 2>&1 || true
  grep -E '^(Total|Result)' "$log" || { tail -n 40 "$log"; return 1; }
  grep -Eq '^Total tests: run=0$' "$log" && grep -Eq '^Total test files: run=([0-9]+)/\1 skipped=\1$' "$log"
}

# With the library, in the sandbox (no /dev/shm, read-only root, Lambda's user).
cpython_with_library() {
  local python=$1 log=$2
  # shellcheck disable=SC2046 # the arguments are words
  in_rootfs "$root" "$lib" LD_PRELOAD=/opt/lib/shm_redirect.so HOME=/tmp "$python" $(cpython_args) \
    >"$log" 2>&1 || true
}

# Natively: the same root filesystem as an ordinary Linux has it (a private tmpfs /dev/shm), no library, the
# same user; never the host's /dev/shm.
cpython_native() {
  local python=$1 log=$2 tmp=$scratch/native-tmp
  mkdir -p -m 1777 "$tmp"
  # shellcheck disable=SC2046 # the arguments are words
  unshare --mount --propagation private -- bash -c '
    set -e
    r=$1 tmp=$2; shift 2
    mount --bind "$r" "$r"
    mount -t proc proc "$r/proc"
    mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$r/dev/shm"
    mount --bind "$tmp" "$r/tmp"
    exec chroot --userspec='"$lambda_user"' "$r" /bin/sh -c "cd /tmp && exec \"\$@\"" sh \
      env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp PYTHONDONTWRITEBYTECODE=1 "$@"
  ' native "$root" "$tmp" "$python" $(cpython_args) >"$log" 2>&1 || true
  rm -rf "$tmp"
}

# The native summary for PYTHON, kept (with the run's log) under the hash of the root filesystem's stamp and
# the suites: it changes only when the filesystem does.
native_summary() {
  local python=$1 key file log
  key=$( { cat "$root/.cdk-lambda-multiprocessing-rootfs"; echo "$python ${suites[*]}"; } | sha256sum | cut -c1-16)
  file=$native_cache/$python-$key
  if [ ! -f "$file" ]; then
    log=$scratch/native-$python.log
    echo "native run of $python (kept in $file)"
    cpython_native "/usr/bin/$python" "$log"
    grep -E '^(Total|Result)' "$log" || tail -n 40 "$log"
    mkdir -p "$native_cache"
    cp "$log" "$file.log"
    regrtest_summary "$log" >"$file.tmp" && mv "$file.tmp" "$file"
  else
    echo "native run of $python from $file (its log: $file.log)"
  fi
  native=$(cat "$file")
}

# With the library, the suites must give what the native run gave: the same counts, the same failed files (a
# test the library broke, or skipped, or fixed, would show). STRICT: and no failure at all.
cpython_suites() {
  local python=$1 strict=$2 log=$scratch/cpython-$1.log ours
  native_summary "$python" || return 1
  cpython_with_library "/usr/bin/$python" "$log"
  grep -E '^(Total|Result)' "$log" || tail -n 60 "$log"
  ours=$(regrtest_summary "$log") || return 1
  echo "$python native:       $native"
  echo "$python with library: $ours"
  if [ "$ours" != "$native" ]; then
    echo "with the library the suites differ from the native run"
    grep -E '^(FAIL|ERROR): ' "$log" | head -n 40
    return 1
  fi
  case "$ours" in *' all-files-ran=yes '*) ;; *) echo "not every test file ran"; return 1 ;; esac
  [ "$strict" = no ] || case "$ours" in *' failures=0 '*'failed-files=none') ;; *) return 1 ;; esac
}

# The example functions as python3.14 (invoker.FORKY_RUNTIMES runs them on this root filesystem); the layer is
# built at synth by the construct, as a user's would be.
examples_python314() {
  local results=$scratch/examples-python314.json
  (cd "$repo" && python3 test/integration/invoker.py run --app 'npx ts-node --prefer-ts-exts test/integration/python314-app.ts' \
    --work "$scratch/integ" --json "$results") || return 1
  python3 "$repo/test/integration/runtime_table.py" check --stage forky "$results"
}
check "build $arch" build_library "$arch"
check "rootfs $name" ensure_rootfs "$name"
stop_on_failure
check "audit $arch" audit "$arch" "$lib"
check "control $name" control "$root" "$lib" "FileNotFoundError: [Errno 2] No such file or directory"
check "programs $name" plain_programs "$root" "$lib"
check "python 3.14 $name" python_suite_with "$root" "$lib" python3.14
check "c-tests $name" c_tests "$root" "$lib" "$arch"
if [ "$arch" = x86_64 ]; then
  check "rootfs forky-amd64-gcc" eval 'gcc_root=$("$repo/test/tools/ensure-rootfs.sh" forky-amd64-gcc)'
  if [ -n "${gcc_root:-}" ]; then
    check "gcc-16 build" build_with_gcc16 "$gcc_root"
    if [ -f "$scratch/lib/gcc-16/shm_redirect.so" ]; then
      check "gcc-16 audit" audit x86_64 "$scratch/lib/gcc-16/shm_redirect.so"
      check "gcc-16 c-tests $name" c_tests "$root" "$scratch/lib/gcc-16/shm_redirect.so" x86_64
    fi
  fi
  check "examples 3.14" examples_python314
fi
check "cpython control" cpython_control
check "cpython 3.14" cpython_suites python3.14 strict
report "python 3.15 $name" python_suite_with "$root" "$lib" python3.15
report "cpython 3.15" cpython_suites python3.15 no
for line in "${reported[@]+"${reported[@]}"}"; do echo "$stage: reported: $line"; done
finish
