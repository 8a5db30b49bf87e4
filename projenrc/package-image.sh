#!/usr/bin/env bash
# `npx projen package:image`: the image for Dockerfiles outside CDK, FROM scratch, holding only
# /opt/lib/shm_redirect.so, for x86_64 and arm64 under one multi-arch manifest list. Each library is built
# from layer/src as the prebuilt ones are (layer/build.sh --werror, the host's cc and the Debian cross gcc,
# then layer/audit.sh), into a directory of its own, so that no other build's layer/prebuilt is read while it
# is rewritten. A user's Dockerfile adds `COPY --from=<image> /opt /opt` and
# `ENV LD_PRELOAD=/opt/lib/shm_redirect.so`.
#
# Out: the manifest list localhost/cdk-lambda-multiprocessing/shm-redirect:VERSION (layer/VERSION) in podman's
# local storage, and dist/image/shm-redirect-VERSION.oci.tar, an OCI archive of the list and both images that
# a release pushes as it is (docs/images.md). Needs podman (CLM_PODMAN names another podman command, as CI's
# test/tools/podman/docker); docker has no local manifest lists.
set -euo pipefail
cd "$(dirname "$0")/.."
podman=${CLM_PODMAN:-podman}
version=$(cat layer/VERSION)
name=localhost/cdk-lambda-multiprocessing/shm-redirect:$version
work=$(mktemp -d "${TMPDIR:-/tmp}/package-image.XXXXXX")
trap 'rm -rf "$work"' EXIT

cat >"$work/Containerfile" <<'CONTAINERFILE'
FROM scratch
ARG ARCH
COPY ${ARCH}/lib/shm_redirect.so /opt/lib/shm_redirect.so
CONTAINERFILE

$podman manifest rm "$name" >/dev/null 2>&1 || true
$podman manifest create "$name" >/dev/null
for arch in x86_64 arm64; do
  library=$work/$arch/lib/shm_redirect.so
  sh layer/build.sh --arch "$arch" --werror --out "$work/$arch/lib" >&2
  sh layer/audit.sh --arch "$arch" "$library" >&2
  case $arch in x86_64) platform=linux/amd64 ;; arm64) platform=linux/arm64 ;; esac
  # A fixed creation time and labels from the sources only: the same sources give the same image.
  $podman build --quiet --platform "$platform" --build-arg "ARCH=$arch" --timestamp 0 \
    --label org.opencontainers.image.title=shm-redirect \
    --label org.opencontainers.image.description="shm_redirect.so (cdk-lambda-multiprocessing) in /opt/lib: COPY --from=this /opt /opt, ENV LD_PRELOAD=/opt/lib/shm_redirect.so" \
    --label org.opencontainers.image.version="$version" \
    --label org.opencontainers.image.licenses=Apache-2.0 \
    --label org.opencontainers.image.source=https://github.com/cdk-lambda-multiprocessing/cdk-lambda-multiprocessing \
    --label "cdk-lambda-multiprocessing.library-sha256=$(sha256sum "$library" | cut -d' ' -f1)" \
    --tag "$name-$arch" --file "$work/Containerfile" "$work" >/dev/null
  $podman manifest add "$name" "containers-storage:$name-$arch" >/dev/null
  echo "package:image: $name-$arch ($platform) holds shm_redirect.so $(sha256sum "$library" | cut -c1-16)"
done
mkdir -p dist/image
archive=dist/image/shm-redirect-$version.oci.tar
rm -f "$archive"
$podman manifest push --quiet --all "$name" "oci-archive:$archive:$version"
echo "package:image: $name (x86_64, arm64) -> $archive"
