#!/usr/bin/env bash
# Stage: the arm64 library on arm64 Debian 11 (glibc 2.31) and 12 (glibc 2.36) root filesystems, run through
# qemu-user (binfmt_misc) inside the Lambda-like sandbox. Needs: gcc-aarch64-linux-gnu, and mmdebstrap,
# qemu-user-static, binfmt-support (the last three installed by test/tools/ensure-rootfs.sh).
source "$(dirname "$0")/common.sh"
parse_args "Checks, as Lambda's user with a read-only root, in bullseye-arm64 (glibc 2.31) and bookworm-arm64 (2.36):
  build        layer/build.sh (skipped with --lib)
  rootfs       test/tools/ensure-rootfs.sh (built on first use, then cached)
  audit        layer/audit.sh on the arm64 library
  control      without the library multiprocessing fails as on Lambda: ENOSYS on 2.31, ENOENT on 2.36
  programs     /bin/sh, cat and ls run with the library preloaded
  python       test/library/python with Debian's python3 (3.9, 3.11) under fork, spawn and forkserver
  c-tests      layer/test/t_*.c cross-compiled against each filesystem's glibc, run in the sandbox" "$@"

command -v aarch64-linux-gnu-gcc >/dev/null || die "needs aarch64-linux-gnu-gcc (apt-get install gcc-aarch64-linux-gnu)"
check "build arm64" build_library arm64
stop_on_failure
check "audit arm64" audit arm64 "$lib"
for name in bullseye-arm64 bookworm-arm64; do
  check "rootfs $name" ensure_rootfs "$name"
  stop_on_failure
  case "$name" in
    bullseye-*) want="OSError: [Errno 38] Function not implemented" ;;
    *) want="FileNotFoundError: [Errno 2] No such file or directory" ;;
  esac
  check "control $name" control "$root" "$lib" "$want"
  check "programs $name" plain_programs "$root" "$lib"
  check "python $name" python_suite "$root" "$lib"
  check "c-tests $name" c_tests "$root" "$lib" arm64
done
finish
