#!/usr/bin/env bash
# Stage: the x86_64 library on glibc 2.31 (Debian 11), the ABI generation of Lambda's AL2 runtimes, inside
# the Lambda-like sandbox. Needs: mmdebstrap (installed by test/tools/ensure-rootfs.sh), gcc.
source "$(dirname "$0")/common.sh"
parse_args "Checks, in a bullseye-amd64 root filesystem (glibc 2.31), as Lambda's user with a read-only root:
  build        layer/build.sh (skipped with --lib)
  rootfs       test/tools/ensure-rootfs.sh (built on first use, then cached)
  audit        layer/audit.sh on the library
  control      without the library multiprocessing fails as on AL2: OSError: [Errno 38] Function not implemented
  programs     /bin/sh, cat and ls run with the library preloaded
  python       test/library/python with Debian's python3 (3.9) under fork, spawn and forkserver
  c-tests      layer/test/t_*.c compiled against glibc 2.31, run in the sandbox" "$@"

check "build x86_64" build_library x86_64
check "rootfs bullseye-amd64" ensure_rootfs bullseye-amd64
stop_on_failure
check "audit x86_64" audit x86_64 "$lib"
check "control bullseye-amd64" control "$root" "$lib" "OSError: [Errno 38] Function not implemented"
check "programs bullseye-amd64" plain_programs "$root" "$lib"
check "python bullseye-amd64" python_suite "$root" "$lib"
check "c-tests bullseye-amd64" c_tests "$root" "$lib" x86_64
finish
