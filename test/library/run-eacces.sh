#!/usr/bin/env bash
# Stage: the EACCES variant of the missing /dev/shm (Pyomo/pyomo#3977, python3.10 on Lambda:
# "PermissionError: [Errno 13] Permission denied" from multiprocessing.Lock()). glibc before 2.34, finding no
# /dev/shm, takes the first tmpfs in /proc/mounts as its shm directory; when its user cannot write there,
# sem_open fails with EACCES instead of ENOSYS. Reproduced on glibc 2.31 in the Lambda-like sandbox with a
# root-owned tmpfs at /run (as on a systemd machine), then fixed by the library.
source "$(dirname "$0")/common.sh"
parse_args "Checks, in a bullseye-amd64 root filesystem (glibc 2.31) with a root-owned tmpfs at /run, as Lambda's
user with a read-only root:
  build        layer/build.sh (skipped with --lib)
  rootfs       test/tools/ensure-rootfs.sh (built on first use, then cached)
  control      without the library: PermissionError: [Errno 13] Permission denied
  programs     /bin/sh, cat and ls run with the library preloaded
  python       test/library/python with Debian's python3 (3.9) under fork, spawn and forkserver, library preloaded" "$@"

sandbox_options=(--root-tmpfs /run)
check "build x86_64" build_library x86_64
check "rootfs bullseye-amd64" ensure_rootfs bullseye-amd64
stop_on_failure
check "control EACCES bullseye-amd64" control "$root" "$lib" "PermissionError: [Errno 13] Permission denied"
check "programs EACCES bullseye-amd64" plain_programs "$root" "$lib"
check "python EACCES bullseye-amd64" python_suite "$root" "$lib"
finish
