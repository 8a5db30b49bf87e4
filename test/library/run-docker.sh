#!/usr/bin/env bash
# Stage: the Docker build of the layer in real containers (podman through CDK_DOCKER=test/tools/podman/docker), for
# x86_64 and for arm64 (an arm64 image run with --platform linux/arm64 through qemu-user binfmt), as an
# ordinary uid, with LibraryBuild.DOCKER. The libraries that come out must pass the audit and the C library's
# tests (natively and in the Lambda-like sandbox; the Python suites under qemu, 9 minutes here, stay with stage
# library-arm64);
# an image without a compiler must be a synth error that says so. Build images come from test/tools/ensure-rootfs.sh
# (SUITE-ARCH-gcc, from the filesystems the library stages build anyway) and are imported once (test/tools/podman/ensure-image.sh). Needs root, podman, runc.
source "$(dirname "$0")/common.sh"
parse_args "Checks:
  images       bullseye-amd64-gcc (gcc 10), bookworm-arm64-gcc (gcc 12) and bullseye-amd64 (no gcc) imported into podman
  synth ARCH   LibraryBuild.DOCKER synth in the ARCH image, as uid 993
  audit ARCH   layer/audit.sh on the library the container built
  c-tests ARCH layer/test/run.sh --lib on that library, natively and in the sandbox (arm64 under qemu)
  no-compiler  the image without gcc: synth fails, naming the image and the missing compiler
  no podman locks left in /dev/shm   podman made no /dev/shm/libpod_lock" "$@"
command -v podman >/dev/null || die "needs podman and runc (apt-get install podman runc)"
export CDK_DOCKER=$repo/test/tools/podman/docker
# Every synth builds in the container: no library from the construct's cache of earlier builds.
export CDK_LAMBDA_MULTIPROCESSING_CACHE=off
# Lambda's uid; the build in the container runs as it (see test/tools/podman/docker).
export CLM_DOCKER_USER=993:990

images() {
  image_x86_64=$(bash "$repo/test/tools/podman/ensure-image.sh" bullseye-amd64-gcc) &&
    image_arm64=$(bash "$repo/test/tools/podman/ensure-image.sh" bookworm-arm64-gcc) &&
    image_nogcc=$(bash "$repo/test/tools/podman/ensure-image.sh" bullseye-amd64)
}

synth() {
  local arch=$1 image=$2 out=$3
  (cd "$repo" && CLM_ARCH=$arch CLM_IMAGE=$image CLM_OUTDIR=$out \
    npx ts-node --transpile-only --project test/tsconfig.json test/library/synth-layer.ts)
}

synth_arch() {
  local arch=$1 image=$2 asset
  asset=$(synth "$arch" "$image" "$scratch/cdk.out-$arch" | tail -n 1) || return 1
  lib=$asset/lib/shm_redirect.so
  [ -f "$lib" ] || { echo "no $lib"; return 1; }
  eval "lib_$arch=\$lib"
}

no_compiler() {
  local output
  if output=$(synth x86_64 "$image_nogcc" "$scratch/cdk.out-nogcc" 2>&1); then
    echo "synth with $image_nogcc succeeded"; return 1
  fi
  printf '%s\n' "$output" | grep -F "the image $image_nogcc (linux/amd64) has no C compiler (\`cc\` or \`gcc\`)" ||
    { printf '%s\n' "$output" | tail -n 20; return 1; }
}

# The engine must leave nothing in the host's /dev/shm: podman's default shm locks would (/dev/shm/libpod_lock,
# see containers.conf). Only that name is judged, and only when it was not there before: other programs use
# the host's /dev/shm meanwhile.
podman_locks=/dev/shm/libpod_lock
[ ! -e "$podman_locks" ] || echo "# $podman_locks exists before the run: whether podman leaves it cannot be told"
podman_locks_before=$([ -e "$podman_locks" ] && echo yes || echo no)
shm_untouched() {
  [ "$podman_locks_before" = yes ] || [ ! -e "$podman_locks" ] || { echo "podman left $podman_locks"; return 1; }
}

check images images
stop_on_failure
check "synth x86_64" synth_arch x86_64 "$image_x86_64"
check "synth arm64" synth_arch arm64 "$image_arm64"
stop_on_failure
check "audit x86_64" audit x86_64 "$lib_x86_64"
check "audit arm64" audit arm64 "$lib_arm64"
for arch in x86_64 arm64; do
  eval "lib=\$lib_$arch"
  # Test binaries in scratch: layer/build belongs to stage layer, which may run meanwhile.
  check "c-tests $arch native" sh "$repo/layer/test/run.sh" --arch "$arch" --mode native --lib "$lib" \
    --work "$scratch/ctests-$arch-native"
  check "c-tests $arch sandbox" sh "$repo/layer/test/run.sh" --arch "$arch" --mode sandbox --lib "$lib" \
    --work "$scratch/ctests-$arch-sandbox"
done
check no-compiler no_compiler
check "no podman locks left in /dev/shm" shm_untouched
finish
