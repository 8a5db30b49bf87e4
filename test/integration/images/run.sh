#!/usr/bin/env bash
# Stage images: container-image functions end to end with real podman (test/tools/podman/docker), x86_64 and arm64
# (qemu). Stand-ins for AWS's Lambda Python base images answer to AWS's names (ensure-aws-names.sh); the
# FROM-scratch image of `npx projen package:image` is tested by COPY --from in a real build; test/integration/images/app.ts
# is synthesized with MultiprocessingImageCode, and each image is built from the cloud assembly as `cdk deploy`
# builds it and run as Lambda runs it, with and without the fix (e2e.py). Needs root, podman, runc, qemu.
# CLM_IMAGES_ARCHS="x86_64 arm64" (the default) chooses the architectures.
source "$(dirname "$0")/../../library/common.sh"
parse_args "Checks:
  asset mapping        test_assets.py: cdk-assets' build command line, unmappable fields refused
  base images          the stand-ins for public.ecr.aws/lambda/python:3.12 and :3.11, each architecture
  package:image        the FROM-scratch image (both architectures, one manifest list) and its OCI archive
  libraries            shm_redirect.so for each architecture from layer/build.sh --werror (reference bytes)
  archive              the archive's index names linux/amd64 and linux/arm64, each layer holds that library
  COPY --from ARCH     a Dockerfile on the 3.12 stand-in copies /opt from the image: the library of ARCH,
                       which makes multiprocessing work there without /dev/shm (ENOENT without it)
  synth                test/integration/images/app.ts (MultiprocessingImageCode, both stand-ins, each architecture)
  end to end ARCH      e2e.py: build from the asset manifest, run as Lambda, invoke, with and without the fix
  nothing left in /dev/shm   nothing new in the host's /dev/shm" "$@"
command -v podman >/dev/null || die "needs podman and runc (apt-get install podman runc)"
docker=$repo/test/tools/podman/docker
export CDK_DOCKER=$docker
# Storage of its own on overlay: with vfs every build step and every container copies the whole image.
export CLM_PODMAN_STORAGE_DRIVER=overlay
read -r -a archs <<<"${CLM_IMAGES_ARCHS:-x86_64 arm64}"
version=$(cat "$repo/layer/VERSION")
scratch_image=localhost/cdk-lambda-multiprocessing/shm-redirect:$version
shm_before=$(ls -A /dev/shm)

platform_of() { case $1 in x86_64) echo linux/amd64 ;; arm64) echo linux/arm64 ;; esac; }

package_image() { (cd "$repo" && CLM_PODMAN=$docker npx projen package:image); }

libraries() { local arch; for arch in x86_64 arm64; do build_library "$arch" && audit "$arch" "$lib" || return 1; done; }

# The release artifact itself: an OCI index of the two platforms, each image's one layer holding the library.
archive() {
  (cd "$repo" && python3 - "dist/image/shm-redirect-$version.oci.tar" "$scratch/lib" <<'PY'
import hashlib, io, json, sys, tarfile
archive = tarfile.open(sys.argv[1])
reference = sys.argv[2]
def blob(digest):
    return archive.extractfile('blobs/sha256/' + digest.split(':')[1]).read()
index = json.loads(blob(json.loads(archive.extractfile('index.json').read())['manifests'][0]['digest']))
found = {}
for entry in index['manifests']:
    manifest = json.loads(blob(entry['digest']))
    [layer] = manifest['layers']
    with tarfile.open(fileobj=io.BytesIO(blob(layer['digest']))) as t:
        names = [m.name for m in t.getmembers() if m.isfile()]
        data = t.extractfile('opt/lib/shm_redirect.so').read()
    arch = {'amd64': 'x86_64', 'arm64': 'arm64'}[entry['platform']['architecture']]
    with open('%s/%s/shm_redirect.so' % (reference, arch), 'rb') as f:
        same = f.read() == data
    print('%s/%s: files %s, library %s, %s' % (entry['platform']['os'], entry['platform']['architecture'], names,
                                               hashlib.sha256(data).hexdigest()[:16], 'as built here' if same else 'DIFFERENT'))
    found[arch] = same and names == ['opt/lib/shm_redirect.so']
sys.exit(0 if found == {'x86_64': True, 'arm64': True} else 1)
PY
  )
}

# What a user outside CDK writes: the two lines, on AWS's (here the stand-in's) base image.
copy_from() {
  local arch=$1 dir=$scratch/copy-from-$arch image=localhost/clm-images-copy-from:$1 out want
  mkdir -p "$dir"
  printf '%s\n' 'FROM public.ecr.aws/lambda/python:3.12' "COPY --from=$scratch_image /opt /opt" \
    'ENV LD_PRELOAD=/opt/lib/shm_redirect.so' >"$dir/Dockerfile"
  "$docker" build --quiet --platform "$(platform_of "$arch")" --tag "$image" "$dir" >/dev/null || return 1
  want=$(sha256sum <"$scratch/lib/$arch/shm_redirect.so" | cut -d' ' -f1)
  local run=("$docker" run --rm --platform "$(platform_of "$arch")")
  out=$("${run[@]}" --entrypoint sha256sum "$image" /opt/lib/shm_redirect.so | cut -d' ' -f1)
  echo "/opt/lib/shm_redirect.so in the $arch image: $out"
  [ "$out" = "$want" ] || { echo "expected the $arch library built here, $want"; return 1; }
  local probe='import multiprocessing as m; l = m.Lock(); l.acquire(); l.release(); print("Lock works")'
  out=$("${run[@]}" --ipc=none --user 993:990 --entrypoint python3 "$image" -c "$probe" 2>&1)
  echo "with LD_PRELOAD, no /dev/shm: $out"
  [ "$out" = "Lock works" ] || return 1
  out=$("${run[@]}" --ipc=none --user 993:990 --env LD_PRELOAD= --entrypoint python3 "$image" -c "$probe" 2>&1 | tail -n 1)
  echo "without: $out"
  [ "$out" = "FileNotFoundError: [Errno 2] No such file or directory" ]
}

synth() {
  (cd "$repo" && CDK_OUTDIR=$scratch/cdk.out CLM_IMAGES_ARCHS=$(IFS=,; echo "${archs[*]}") \
    npx ts-node --transpile-only --project test/tsconfig.json test/integration/images/app.ts)
}

end_to_end() {
  python3 "$repo/test/integration/images/e2e.py" --assembly "$scratch/cdk.out" --arch "$1" --work "$scratch/e2e" \
    --json "$scratch/e2e-$1.json"
}

# Only what appeared counts: other engineers' tests come and go in the host's /dev/shm meanwhile.
shm_untouched() {
  local appeared
  appeared=$(comm -13 <(printf '%s\n' "$shm_before" | sort) <(ls -A /dev/shm | sort))
  [ -z "$appeared" ] || { printf 'new in /dev/shm: %s\n' "$appeared"; return 1; }
}

check "asset mapping" python3 -m pytest -q -p no:cacheprovider "$repo/test/integration/images/test_assets.py"
check "base images" bash "$repo/test/integration/images/ensure-aws-names.sh" "${archs[@]}"
stop_on_failure
check libraries libraries
check package:image package_image
check archive archive
for arch in "${archs[@]}"; do check "COPY --from $arch" copy_from "$arch"; done
check synth synth
stop_on_failure
for arch in "${archs[@]}"; do check "end to end $arch" end_to_end "$arch"; done
check "nothing left in /dev/shm" shm_untouched
finish
