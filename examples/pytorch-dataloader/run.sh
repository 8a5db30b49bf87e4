#!/usr/bin/env bash
# Builds the PyTorch DataLoader example's image as `cdk deploy` would and runs it the way Lambda runs an
# image: no /dev/shm (--ipc=none), a read-only root, /tmp writable on disk, an unprivileged user, a memory
# limit; then invokes it through the Runtime Interface Emulator in AWS's base image, with the fix and
# without it (LD_PRELOAD emptied).
#
#   bash examples/pytorch-dataloader/run.sh            (from the repository, after `npm ci`)
#
# Needs Docker (or CDK_DOCKER=podman) that can pull public.ecr.aws/lambda/python:3.12 and reach
# download.pytorch.org; the arm64 image needs an arm64 host or qemu binfmt. Not run in CI: torch's CPU
# wheels alone are about 200 MB, and PyPI's default torch pulls in gigabytes of CUDA libraries.
# DRY_RUN=1 prints the docker commands instead of running them.
set -euo pipefail
cd "$(dirname "$0")/../.."
docker=${CDK_DOCKER:-docker}
run() { if [ "${DRY_RUN:-0}" = 1 ]; then printf '%s\n' "$*"; else "$@"; fi; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== synth examples/image-app.ts into $work/cdk.out"
CDK_OUTDIR="$work/cdk.out" npx ts-node --prefer-ts-exts examples/image-app.ts

# The image as the asset manifest describes it, built as cdk-assets builds it: in the asset's directory.
read -r directory platform contexts preload < <(node -e '
  const fs = require("fs");
  const out = process.argv[1];
  const manifest = JSON.parse(fs.readFileSync(`${out}/PyTorchDataLoaderExample.assets.json`, "utf8"));
  const { source } = Object.values(manifest.dockerImages).find((i) => i.displayName === "DataLoader/AssetImage");
  const template = JSON.parse(fs.readFileSync(`${out}/PyTorchDataLoaderExample.template.json`, "utf8"));
  const fn = Object.values(template.Resources).find((r) => r.Type === "AWS::Lambda::Function");
  const contexts = Object.entries(source.dockerBuildContexts ?? {}).map(([k, v]) => `${k}=${v}`).join(",");
  console.log(`${out}/${source.directory} ${source.platform} ${contexts} ${fn.Properties.Environment.Variables.LD_PRELOAD}`);
' "$work/cdk.out")
tag=localhost/cdk-lambda-multiprocessing-pytorch-dataloader
build=(build --platform "$platform" --tag "$tag")
IFS=, read -ra pairs <<<"$contexts"
for pair in "${pairs[@]}"; do build+=(--build-context "$pair"); done
echo "== $docker ${build[*]} . (in $directory)"
(cd "$directory" && run "$docker" "${build[@]}" .)

invoke() { # $1: LD_PRELOAD value for the function
  local name=clm-dataloader-$$ tmp="$work/tmp-$RANDOM"
  mkdir -m 1777 "$tmp"
  run "$docker" run --detach --rm --name "$name" --platform "$platform" --publish 127.0.0.1:9000:8080 \
    --ipc=none --read-only --volume "$tmp:/tmp" --user 993:993 --memory 3008m \
    --env "LD_PRELOAD=$1" --env AWS_LAMBDA_FUNCTION_MEMORY_SIZE=3008 --env AWS_LAMBDA_FUNCTION_TIMEOUT=120 "$tag"
  if [ "${DRY_RUN:-0}" != 1 ]; then
    sleep 2
    "$docker" exec "$name" sh -c 'test -e /dev/shm && echo "/dev/shm exists: this is not how Lambda runs it" || echo "no /dev/shm, as on Lambda"'
    curl -sS -XPOST http://127.0.0.1:9000/2015-03-31/functions/function/invocations -d '{"items": 512, "workers": 4}'
    echo
    "$docker" stop "$name" >/dev/null
  fi
}
echo "== with the fix (LD_PRELOAD=$preload): expect \"ok\": true"
invoke "$preload"
echo "== without it: expect an errorMessage (ENOENT/FileNotFoundError on python3.12)"
invoke ""
