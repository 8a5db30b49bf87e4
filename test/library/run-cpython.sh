#!/usr/bin/env bash
# Optional stage (long, not part of CI): CPython's own multiprocessing test suites, under each start method, in
# the Lambda-like sandbox with the library preloaded, on the host's glibc. Without the library CPython skips
# these suites whole ("broken multiprocessing SemLock") and still reports SUCCESS, so a pass here also
# requires that every test file ran.
source "$(dirname "$0")/common.sh"
python=${CLM_CPYTHON:-$(ls -d "${PYENV_ROOT:-/root/.pyenv}"/versions/3.* 2>/dev/null | sort -V | tail -n 1)/bin/python}
parse_args "Checks, with ${python} (set CLM_CPYTHON to choose another interpreter; it needs its test package):
  build              layer/build.sh (skipped with --lib)
  audit              layer/audit.sh on the library
  cpython METHOD     python -m test test_multiprocessing_METHOD -j2, for fork, spawn and forkserver" "$@"

[ -x "$python" ] || die "no interpreter at $python (set CLM_CPYTHON)"
"$python" -c 'import test.libregrtest' 2>/dev/null || die "$python has no test package"

cpython_suite() {
  local method=$1 out
  out=$("$sandbox" --workdir /tmp -- env LD_PRELOAD="$lib" "$python" -m test "test_multiprocessing_$method" -j2 2>&1) || {
    printf '%s\n' "$out" | tail -n 40
    return 1
  }
  printf '%s\n' "$out" | grep -E '^(Total|Result)'
  printf '%s\n' "$out" | grep -q '^Result: SUCCESS' &&
    printf '%s\n' "$out" | grep -Eq '^Total test files: run=([0-9]+)/\1$'
}

check "build x86_64" build_library x86_64
stop_on_failure
check "audit x86_64" audit x86_64 "$lib"
for method in fork spawn forkserver; do
  check "cpython $method" cpython_suite "$method"
done
finish
