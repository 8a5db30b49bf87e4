#!/usr/bin/env bash
# Stage: the x86_64 library on the host's glibc (Debian 12: 2.36, the ABI generation of Lambda's AL2023
# runtimes) inside the Lambda-like sandbox, with every Python 3.8+ under ${PYENV_ROOT:-/root/.pyenv}/versions
# (the host's python3 when there is none). pytest is installed into an interpreter that lacks it (pip).
source "$(dirname "$0")/common.sh"
parse_args "Checks, on the host's root filesystem made read-only, with no /dev/shm:
  build        layer/build.sh (skipped with --lib)
  audit        layer/audit.sh on the library
  control      without the library multiprocessing fails as on AL2023: FileNotFoundError: [Errno 2]
  programs     /bin/sh, cat and ls run with the library preloaded
  python X.Y   test/library/python under fork, spawn and forkserver, once per interpreter (numpy and joblib
               installed into the newest one for the joblib case)" "$@"

interpreters() {
  local dir version minor found=0
  for dir in "${PYENV_ROOT:-/root/.pyenv}"/versions/3.*; do
    [ -x "$dir/bin/python" ] || continue
    version=${dir##*/} minor=${version#3.} minor=${minor%%.*}
    case "$minor" in ''|*[!0-9]*) continue ;; esac
    # multiprocessing.shared_memory, which the suite covers, appeared in 3.8.
    [ "$minor" -ge 8 ] || continue
    echo "$dir/bin/python"
    found=1
  done
  [ "$found" = 1 ] || command -v python3
}

on_host() {
  "$sandbox" --read-only --bind "$repo:$repo:ro" -- env PYTHONDONTWRITEBYTECODE=1 "$@"
}

host_control() {
  local out
  out=$(on_host env -u LD_PRELOAD python3 -c 'import multiprocessing; multiprocessing.Lock()' 2>&1) && {
    echo "multiprocessing.Lock() worked without the library: the sandbox is not Lambda-like"
    return 1
  }
  printf '%s\n' "$out" | tail -n 1
  [ "$(printf '%s\n' "$out" | tail -n 1)" = "FileNotFoundError: [Errno 2] No such file or directory" ]
}

host_programs() {
  on_host env LD_PRELOAD="$lib" /bin/sh -c '
    set -e
    [ "$(/bin/sh -c "echo ok")" = ok ]
    [ "$(printf "a\nb\n" | /bin/cat)" = "$(printf "a\nb")" ]
    ls / | grep -qx etc
    /bin/cat /proc/self/maps | grep -q "$0"
    echo "sh, cat and ls ran with the library loaded"' "$lib"
}

host_python() {
  local python=$1
  "$python" -c 'import pytest' 2>/dev/null ||
    "$python" -m pip install -q --disable-pip-version-check pytest || return 1
  # A joblib run killed midway (test_reclaim_keeps.py) needs numpy and joblib: on the newest interpreter only.
  if [ "$python" = "$(interpreters | sort -V | tail -n 1)" ]; then
    "$python" -c 'import numpy, joblib' 2>/dev/null ||
      "$python" -m pip install -q --disable-pip-version-check numpy joblib || return 1
  fi
  on_host LD_PRELOAD="$lib" "$python" -m pytest -p no:cacheprovider -q "$repo/test/library/python"
}

check "build x86_64" build_library x86_64
stop_on_failure
check "audit x86_64" audit x86_64 "$lib"
check "control host" host_control
check "programs host" host_programs
for python in $(interpreters | sort -V); do
  check "python $("$python" -c 'import platform; print(platform.python_version())')" host_python "$python"
done
finish
