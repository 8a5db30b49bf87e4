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

[ "$(id -u)" = 0 ] || die "needs root (mount namespaces, chroot, mmdebstrap)"

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

# The C tests of layer/test inside ROOTFS, by their runner: compiled on the host against the filesystem's own
# glibc, run in the sandbox as Lambda's user.
c_tests() {
  local root=$1 lib=$2 arch=$3
  sh "$repo/layer/test/run.sh" --arch "$arch" --mode sandbox --rootfs "$root" --lib "$lib" \
    --work "$scratch/ctests-$(basename "$root")-$(basename "$(dirname "$lib")")"
}
