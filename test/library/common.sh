# Shared by the run-*.sh stage scripts (sourced, not run). Each stage is a list of checks; every check prints
# its output and duration, and the stage ends with one line "STAGE: N passed, N failed" (checks, not tests).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
stage=$(basename "$0" .sh)
sandbox=$repo/test/tools/lambda-sandbox.sh
# Lambda runs functions as an unprivileged user (sbx_user1051) with a read-only root.
lambda_user=993:990
stage_start=$(date +%s)
passed=0 failed=0 failures=()

die() { echo "$stage: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "needs root (mount namespaces, chroot, debootstrap)"

stage_usage() {
  cat <<USAGE
usage: test/library/$stage.sh [--lib FILE]

$1

  --lib FILE   test this shm_redirect.so instead of one built from layer/ with layer/build.sh
  -h, --help   this text

Root filesystems come from test/tools/ensure-rootfs.sh (cached in \${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}).
The last line is "$stage: N passed, N failed", counting the checks listed above.
USAGE
}

# Sets $given_lib from the command line; $1 is the stage's description for --help.
parse_args() {
  local description=$1
  shift
  given_lib=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --lib) given_lib=${2:?--lib needs a file}; shift 2 ;;
      -h|--help) stage_usage "$description"; exit 0 ;;
      *) stage_usage "$description" >&2; die "unknown argument $1" ;;
    esac
  done
  [ -z "$given_lib" ] || [ -f "$given_lib" ] || die "--lib $given_lib is not a file"
}

scratch=$(mktemp -d /var/tmp/clm-$stage.XXXXXX)
chmod 755 "$scratch"
trap 'rm -rf "$scratch"' EXIT

check() {
  local name=$1 start rc=0
  shift
  start=$(date +%s)
  echo "--- $stage: $name"
  "$@" || rc=$?
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1))
    echo "--- PASS $name ($(($(date +%s) - start)) s)"
  else
    failed=$((failed + 1))
    failures+=("$name")
    echo "--- FAIL $name (exit $rc, $(($(date +%s) - start)) s)"
  fi
}

finish() {
  local f
  echo "$stage: took $(($(date +%s) - stage_start)) s"
  for f in "${failures[@]+"${failures[@]}"}"; do echo "$stage: FAILED $f"; done
  echo "$stage: $passed passed, $failed failed"
  [ "$failed" = 0 ]
}

# Sets $lib to the library to test for ARCH (x86_64|arm64): --lib, or a fresh build from layer/.
build_library() {
  local arch=$1
  lib=$scratch/lib/$arch/shm_redirect.so
  if [ -n "$given_lib" ]; then
    mkdir -p "$scratch/lib/$arch" && cp "$given_lib" "$lib"
  else
    sh "$repo/layer/build.sh" --arch "$arch" --werror --out "$scratch/lib/$arch"
  fi
}

# Sets $root to a ready root filesystem NAME (built on first use).
ensure_rootfs() {
  root=$("$repo/test/tools/ensure-rootfs.sh" "$1")
}

# Without a library or a root filesystem the remaining checks cannot mean anything.
stop_on_failure() {
  [ "$failed" = 0 ] || { finish || exit 1; }
}

audit() { sh "$repo/layer/audit.sh" --arch "$1" "$2"; }

# Runs COMMAND as Lambda would inside ROOTFS, with LIB's directory bound at /opt/lib (where the layer puts
# it) and the Python suite at /opt/clm-tests/python; a clean environment, so nothing of the host leaks in.
# A stage may add sandbox options of its own in $sandbox_options.
sandbox_options=()
in_rootfs() {
  local root=$1 lib=$2
  shift 2
  "$sandbox" --rootfs "$root" --read-only --user "$lambda_user" "${sandbox_options[@]+"${sandbox_options[@]}"}" \
    --bind "$(dirname "$lib")":/opt/lib:ro --bind "$repo/test/library/python":/opt/clm-tests/python:ro -- \
    env -i PATH=/usr/local/bin:/usr/bin:/bin PYTHONDONTWRITEBYTECODE=1 "$@"
}

# The control: without the library, multiprocessing in the sandbox fails with exactly Lambda's error.
control() {
  local root=$1 lib=$2 want=$3 out
  out=$(in_rootfs "$root" "$lib" python3 -c 'import multiprocessing; multiprocessing.Lock()' 2>&1) && {
    echo "multiprocessing.Lock() worked without the library: the sandbox is not Lambda-like"
    return 1
  }
  printf '%s\n' "$out" | tail -n 1
  [ "$(printf '%s\n' "$out" | tail -n 1)" = "$want" ] || { echo "expected: $want"; return 1; }
}

# Ordinary programs keep working with the library preloaded (and it really is loaded into them).
plain_programs() {
  in_rootfs "$1" "$2" LD_PRELOAD=/opt/lib/shm_redirect.so /bin/sh -c '
    set -e
    [ "$(/bin/sh -c "echo ok")" = ok ]
    [ "$(printf "a\nb\n" | /bin/cat)" = "$(printf "a\nb")" ]
    ls / | grep -qx etc
    /bin/cat /proc/self/maps | grep -q "/opt/lib/shm_redirect.so"
    echo "sh, cat and ls ran with the library loaded"'
}

python_suite() {
  in_rootfs "$1" "$2" LD_PRELOAD=/opt/lib/shm_redirect.so \
    python3 -m pytest -p no:cacheprovider -q /opt/clm-tests/python
}

# The C tests of layer/test, compiled on the host against ROOTFS's own glibc (the host's would pull in newer
# symbol versions), then run inside ROOTFS in the sandbox; t_enospc gets a small ext4 /tmp to fill up.
c_tests() {
  local root=$1 lib=$2 arch=$3 triplet cc bin src t out ok=0 bad=0 rc
  case "$arch" in
    x86_64) triplet=x86_64-linux-gnu ;;
    arm64) triplet=aarch64-linux-gnu ;;
  esac
  if [ "$(uname -m)" = "${triplet%%-*}" ]; then cc=cc; else cc=$triplet-gcc; fi
  bin=$scratch/ctests-$(basename "$root")
  mkdir -p "$bin"
  for src in "$repo"/layer/test/t_*.c; do
    # librt: shm_open lived there before glibc 2.34.
    "$cc" --sysroot="$root" -isystem "$root/usr/include/$triplet" -isystem "$root/usr/include" \
      -B"$root/usr/lib/$triplet/" -L"$root/usr/lib/$triplet" \
      -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -pthread \
      -o "$bin/$(basename "$src" .c)" "$src" -lrt -ldl || return 1
  done
  for t in "$bin"/t_*; do
    rc=0
    if [ "$(basename "$t")" = t_semfork ] && [ "$arch" != "$(uname -m | sed s/aarch64/arm64/)" ]; then
      # qemu-user itself deadlocks now and then in a child forked while other threads run (see layer/test/run.sh).
      echo "# SKIP t_semfork under qemu-user"
      continue
    fi
    if [ "$(basename "$t")" = t_enospc ]; then
      out=$("$sandbox" --rootfs "$root" --tmp-image 8 --user "$lambda_user" \
        --bind "$(dirname "$lib")":/opt/lib:ro --bind "$bin":/opt/clm-tests/c:ro --workdir /tmp -- \
        env -i SHMR_TEST_ENOSPC=1 LD_PRELOAD=/opt/lib/shm_redirect.so timeout -k 5 120 /opt/clm-tests/c/t_enospc 2>&1) || rc=$?
    else
      out=$("$sandbox" --rootfs "$root" --read-only --user "$lambda_user" \
        --bind "$(dirname "$lib")":/opt/lib:ro --bind "$bin":/opt/clm-tests/c:ro --workdir /tmp -- \
        env -i LD_PRELOAD=/opt/lib/shm_redirect.so timeout -k 5 120 "/opt/clm-tests/c/$(basename "$t")" 2>&1) || rc=$?
    fi
    echo "# $(basename "$t")"
    printf '%s\n' "$out" | grep -v '^ok ' || true
    ok=$((ok + $(printf '%s\n' "$out" | grep -c '^ok ' || true)))
    bad=$((bad + $(printf '%s\n' "$out" | grep -c '^not ok ' || true)))
    if [ "$rc" != 0 ]; then
      echo "$(basename "$t") exited with status $rc"
      bad=$((bad + 1))
    fi
  done
  echo "c-tests in $(basename "$root"): $ok ok, $bad not ok"
  [ "$bad" = 0 ] && [ "$ok" -gt 0 ]
}
