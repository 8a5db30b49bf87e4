#!/usr/bin/env bash
# Makes the stand-ins answer to AWS's names: for each tag, a local manifest list
# public.ecr.aws/lambda/python:TAG holding the stand-in of each ARCH (test/integration/images/ensure-base.sh), so that a
# Dockerfile's unchanged `FROM public.ecr.aws/lambda/python:3.12` resolves, for `--platform linux/arm64` too,
# without a registry. A list that already holds these images (and maybe others) is left as it is, so that a
# caller asking for x86_64 only does not take arm64 away from another.
#
#   test/integration/images/ensure-aws-names.sh ARCH...     x86_64 and/or arm64
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,7s/^# \{0,1\}//p' "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
docker=$here/../../tools/podman/docker
cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}
for tag in 3.12 3.11; do
  images=()
  for arch in "$@"; do images+=("$(bash "$here/ensure-base.sh" "$tag" "$arch")"); done
  name=public.ecr.aws/lambda/python:$tag
  want=$(for image in "${images[@]}"; do "$docker" image inspect --format '{{.Digest}}' "$image"; done | sort)
  exec 9>"$cache/podman/.aws-name-$tag.lock"
  flock 9
  have=$("$docker" manifest inspect "$name" 2>/dev/null | python3 -c '
import json, sys
print("\n".join(sorted(m["digest"] for m in json.load(sys.stdin).get("manifests", []))))' 2>/dev/null || true)
  if [ -n "$(comm -23 <(echo "$want") <(echo "$have"))" ]; then
    "$docker" manifest rm "$name" >/dev/null 2>&1 || true
    "$docker" manifest create "$name" >/dev/null
    for image in "${images[@]}"; do "$docker" manifest add "$name" "containers-storage:$image" >/dev/null; done
    echo "ensure-aws-names: $name -> ${images[*]}" >&2
  fi
  exec 9>&-
done
