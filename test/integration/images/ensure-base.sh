#!/usr/bin/env bash
# Prints the name of a podman image that stands in for AWS's Lambda base image public.ecr.aws/lambda/python:TAG
# for ARCH, building it on first use. Registries are unreachable here, so it starts from a Debian root
# filesystem (test/tools/ensure-rootfs.sh, imported by test/tools/podman/ensure-image.sh) and adds what AWS's image adds:
# the runtime interface client (awslambdaric from PyPI) in /var/runtime, aws-lambda-rie, an entrypoint that runs
# the emulator when AWS_LAMBDA_RUNTIME_API is unset, pip, AWS's environment and WORKDIR /var/task.
#
#   test/integration/images/ensure-base.sh 3.12|3.11 x86_64|arm64
#
#   3.12: Debian 12 (glibc 2.36, Python 3.11), standing in for AL2023 (glibc 2.34, Python 3.12)
#   3.11: Debian 11 (glibc 2.31, Python 3.9), standing in for AL2 (glibc 2.26, Python 3.11)
#
# The tag is a hash of everything that made the image (root filesystem stamp, Containerfile, scripts, pinned
# PyPI versions, emulator binary), so an unchanged image is built once and kept in podman's storage in the cache.
set -euo pipefail
[ $# = 2 ] || { sed -n '2,13s/^# \{0,1\}//p' "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
tag=$1 arch=$2
case "$tag" in
  3.12) suite=bookworm python=3.11 ric=awslambdaric==4.2.2 ;;
  # awslambdaric 4.0.4 is the last release for Python 3.9.
  3.11) suite=bullseye python=3.9 ric=awslambdaric==4.0.4 ;;
  *) echo "ensure-base: unknown tag $tag (3.12 or 3.11)" >&2; exit 2 ;;
esac
case "$arch" in
  x86_64) debarch=amd64 platform_tag=manylinux2014_x86_64 ;;
  arm64) debarch=arm64 platform_tag=manylinux2014_aarch64 ;;
  *) echo "ensure-base: unknown architecture $arch (x86_64 or arm64)" >&2; exit 2 ;;
esac
pip_pin=pip==25.3
# The machine's trust store goes into the image (AWS's images carry Amazon Linux's): RUN pip install in a user's
# Dockerfile reaches PyPI through whatever this machine trusts (here a TLS-inspecting proxy).
ca_bundle=/etc/ssl/certs/ca-certificates.crt
docker=$repo/test/tools/podman/docker
cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}

rootfs_image=$(bash "$repo/test/tools/podman/ensure-image.sh" "$suite-$debarch")
rie=$(cd "$repo/test/integration" && python3 -c '
import sys, rie
print(rie.find(sys.argv[1], sys.argv[2], log=lambda m: print(m, file=sys.stderr)))' "$arch" "$cache")

hash=$( {
  echo "$rootfs_image $python $ric $pip_pin $platform_tag"
  sha256sum <"$rie"
  cat "$here/base/Containerfile" "$here/base/lambda-entrypoint.sh" "$here/base/bootstrap" "$here/base/pip" "$ca_bundle"
} | sha256sum | cut -c1-16)
image=localhost/clm-lambda-python:$tag-$arch-$hash

mkdir -p "$cache/podman"
exec 9>"$cache/podman/.lambda-python-$tag-$arch.lock"
flock 9
if "$docker" image exists "$image"; then
  echo "$image"
  exit 0
fi

echo "ensure-base: building $image (stand-in for public.ecr.aws/lambda/python:$tag, $arch) from $rootfs_image" >&2
start=$SECONDS
work=$(mktemp -d /var/tmp/clm-lambda-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
stage=$work/stage
mkdir -p "$stage/var/runtime" "$stage/var/lang/bin" "$stage/var/lang/lib/pip" "$stage/usr/local/bin" "$stage/var/task" \
  "$stage/etc/ssl/certs"
cp "$ca_bundle" "$stage/etc/ssl/certs/ca-certificates.crt"
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$stage/etc/pip.conf"
pip_target() {
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-compile --target "$1" --platform "$platform_tag" \
    --python-version "$python" --implementation cp --only-binary=:all: "$2" >&2
}
pip_target "$stage/var/runtime" "$ric"
pip_target "$stage/var/lang/lib/pip" "$pip_pin"
# pip --target leaves console scripts written for the host's interpreter; the image has its own.
rm -rf "$stage/var/runtime/bin" "$stage/var/lang/lib/pip/bin"
cp "$here/base/lambda-entrypoint.sh" "$stage/lambda-entrypoint.sh"
cp "$here/base/bootstrap" "$stage/var/runtime/bootstrap"
cp "$here/base/pip" "$stage/var/lang/bin/pip"
ln -s pip "$stage/var/lang/bin/pip3"
ln -s /usr/bin/python$python "$stage/var/lang/bin/python$python"
ln -s python$python "$stage/var/lang/bin/python3"
ln -s python3 "$stage/var/lang/bin/python"
cp "$rie" "$stage/usr/local/bin/aws-lambda-rie"
chmod -R u=rwX,go=rX "$stage"
chmod 755 "$stage/lambda-entrypoint.sh" "$stage/var/runtime/bootstrap" "$stage/var/lang/bin/pip" \
  "$stage/usr/local/bin/aws-lambda-rie"
cp "$here/base/Containerfile" "$work/Containerfile"
"$docker" build --quiet --pull=never --platform "linux/$debarch" --build-arg "ROOTFS_IMAGE=$rootfs_image" \
  --tag "$image" --file "$work/Containerfile" "$work" >&2
echo "ensure-base: built $image in $((SECONDS - start)) s" >&2
echo "$image"
