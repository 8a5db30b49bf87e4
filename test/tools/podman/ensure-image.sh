#!/usr/bin/env bash
# Prints the name of a podman image made from a root filesystem of test/tools/ensure-rootfs.sh, importing it on first
# use. The tag is a hash of the filesystem's stamp (suite, architecture, packages), so a changed filesystem
# gives a new image and an unchanged one is imported once.
#
#   test/tools/podman/ensure-image.sh ROOTFS     e.g. bookworm-arm64-gcc (a build image), bullseye-amd64 (no gcc)
set -euo pipefail
[ $# = 1 ] || { sed -n '2,6s/^# \{0,1\}//p' "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
rootfs_name=$1
root=$(bash "$here/../ensure-rootfs.sh" "$rootfs_name")
arch=${rootfs_name#*-}
arch=${arch%-gcc}
tag=$(sha256sum <"$root/.cdk-lambda-multiprocessing-rootfs" | cut -c1-16)
image=localhost/clm-$rootfs_name:$tag
cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}/podman
mkdir -p "$cache"
exec 9>"$cache/.$rootfs_name.lock"
flock 9
if ! "$here/docker" image exists "$image"; then
  echo "image: importing $root as $image" >&2
  start=$SECONDS
  tar -C "$root" -c . | "$here/docker" import --arch "$arch" - "$image" >/dev/null
  echo "image: imported $image in $((SECONDS - start)) s" >&2
fi
echo "$image"
