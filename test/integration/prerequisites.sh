#!/usr/bin/env bash
# Installs what the local invoker needs on a Debian machine, once: the sandbox's tools (unshare, setpriv,
# chroot, mkfs.ext4, a loop device) and pytest. Root filesystems, qemu and mmdebstrap come with
# test/tools/ensure-rootfs.sh on first use; awslambdaric comes from PyPI into the cache (invoker.py), aws-lambda-rie
# from AWS_LAMBDA_RIE, PATH, go install into the cache or ../shared/tools (rie.py).
# --sandbox-only: not pytest nor the Pythons of the host runtimes (the demos run no pytest, and report a function
# whose Python is missing as not run).
set -euo pipefail
with_pytest=1
[ "${1:-}" != --sandbox-only ] || with_pytest=0
[ "$(id -u)" = 0 ] || { echo "integ: needs root (mount namespaces, loop devices, chroot)" >&2; exit 2; }
missing=()
for tool in unshare:util-linux setpriv:util-linux chroot:coreutils mkfs.ext4:e2fsprogs losetup:mount; do
  command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    "${missing[@]}"
fi
[ "$with_pytest" = 0 ] || python3 -m pytest --version >/dev/null 2>&1 || python3 -m pip install --quiet pytest
python3 -m pip --version >/dev/null || { echo "integ: python3 has no pip (needed for awslambdaric)" >&2; exit 2; }
# The tests run every function they synthesize: one whose Python this machine lacks cannot pass (the demos
# report it as not run instead).
[ "$with_pytest" = 0 ] || python3 "$(dirname "$0")/invoker.py" pythons
