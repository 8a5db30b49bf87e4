#!/usr/bin/env bash
# Stage outside-cdk: the examples for users outside CDK (examples/outside-cdk, docs/outside-cdk.md), each checked
# by its own tool on a copy that holds a layer zip made as the release makes it (release/layer-zip.py from
# layer/build.sh's x86_64 library), under the name the example gives it:
#   same function   the four app.py are one file
#   sam             cfn-lint on template.yaml; aws-sam-translator turns it into CloudFormation: a layer version
#                   from the zip, the function with that layer and LD_PRELOAD (test/release/sam_translate.py);
#                   `sam build` builds it
#   sam local invoke  through podman's Docker API, on a stand-in of AWS's base image (needs podman), in a
#                   container without /dev/shm: the function's result with the layer, FileNotFoundError with
#                   LD_PRELOAD emptied
#   serverless      `osls package` (the Serverless Framework v3's open-source continuation; v4 needs a login),
#                   offline but for a loopback stand-in answering CloudFormation's "stack does not exist"; the
#                   packaged template has the layer from the zip and the function with it and LD_PRELOAD
#   terraform       main.tf parsed as HCL2 and checked (test/release/terraform_check.py); no Terraform-compatible
#                   tool validates here (the aws provider comes only from their registries)
# The Dockerfile example is built with podman by stage release (release/check.sh, COPY --from the image).
# Tools pinned and installed once into the cache: aws-sam-cli, cfn-lint, aws-sam-translator, python-hcl2 (PyPI),
# osls (npm).
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}
tools=$cache/outside-cdk
# aws-sam-cli 1.170.0 depends on exactly these cfn-lint and aws-sam-translator.
PYPI=(aws-sam-cli==1.170.0 cfn-lint==1.58.0 aws-sam-translator==1.115.0 python-hcl2==8.1.4)
OSLS=osls@4.3.1
mkdir -p "$tools"
exec 9>"$tools/.lock"
flock 9
if [ "$(cat "$tools/venv/.installed" 2>/dev/null)" != "${PYPI[*]}" ]; then
  echo "outside-cdk: pip install ${PYPI[*]}"
  rm -rf "$tools/venv" && python3 -m venv "$tools/venv" &&
    "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "${PYPI[@]}" && echo "${PYPI[*]}" >"$tools/venv/.installed" ||
    { echo "outside-cdk: could not install ${PYPI[*]}"; exit 1; }
fi
if [ ! -x "$tools/$OSLS/node_modules/.bin/osls" ]; then
  echo "outside-cdk: npm install $OSLS"
  npm install --prefix "$tools/$OSLS" --no-audit --no-fund --loglevel=error --cache "$cache/npm" "$OSLS" ||
    { echo "outside-cdk: could not install $OSLS"; exit 1; }
fi
flock -u 9
python=$tools/venv/bin/python
work=$(mktemp -d /var/tmp/clm-outside-cdk.XXXXXX)
stand_in= service=
trap '[ -z "$stand_in" ] || kill "$stand_in" 2>/dev/null; [ -z "$service" ] || kill "$service" 2>/dev/null; rm -rf "$work"' EXIT
examples=$work/outside-cdk
cp -r "$repo/examples/outside-cdk" "$examples"
passed=0 failed=0
check() {
  local name=$1 start=$SECONDS
  shift
  echo "--- outside-cdk: $name"
  if "$@"; then passed=$((passed + 1)); echo "--- PASS $name ($((SECONDS - start)) s)"
  else failed=$((failed + 1)); echo "--- FAIL $name ($((SECONDS - start)) s)"; fi
}

sh "$repo/layer/build.sh" --arch x86_64 --werror --out "$work/lib" &&
  sh "$repo/layer/audit.sh" --arch x86_64 "$work/lib/shm_redirect.so" &&
  python3 "$repo/release/layer-zip.py" "$work/lib/shm_redirect.so" "$work/layer.zip" || exit 1

# Puts the layer zip into DIR under NAME, which must be the release's name for an x86_64 zip.
place_zip() {
  [[ $2 =~ ^shm-redirect-[0-9]+\.[0-9]+\.[0-9]+-x86_64\.zip$ ]] || { echo "$1 names the layer zip '$2', not as the release does"; return 1; }
  cp "$work/layer.zip" "$1/$2"
}

# yaml_value FILE KEY...: the value at that path (CloudFormation's short tags such as !Ref read as nothing).
yaml_value() {
  "$python" - "$@" <<'PY'
import sys, yaml
class Loader(yaml.SafeLoader):
    pass
Loader.add_multi_constructor('!', lambda loader, suffix, node: None)
value = yaml.load(open(sys.argv[1]), Loader)
for key in sys.argv[2:]:
    value = value[key]
print(value)
PY
}

same_function() {
  local dir
  for dir in sam/src serverless terraform; do cmp "$examples/dockerfile/app.py" "$examples/$dir/app.py" || return 1; done
  echo "dockerfile/app.py, sam/src/app.py, serverless/app.py and terraform/app.py are the same"
}

sam() {
  local zip
  zip=$(yaml_value "$examples/sam/template.yaml" Resources ShmRedirectLayer Properties ContentUri) &&
    place_zip "$examples/sam" "$zip" || return 1
  echo "cfn-lint $("$tools/venv/bin/cfn-lint" --version | cut -d' ' -f2) template.yaml:"
  (cd "$examples/sam" && "$tools/venv/bin/cfn-lint" template.yaml) || return 1
  echo "cfn-lint: no problems"
  "$python" "$repo/test/release/sam_translate.py" "$examples/sam/template.yaml" || return 1
  sam_build "$zip"
}

# `sam build` with the runtime's Python on PATH (SAM insists on python3.12 for a python3.12 function; the host
# Pythons from pyenv are a prerequisite of the test command), then what it built.
sam_build() {
  local python312 built=$examples/sam/.aws-sam/build
  python312=$(ls -d "${PYENV_ROOT:-/root/.pyenv}"/versions/3.12.*/bin 2>/dev/null | tail -n 1)
  [ -n "$python312" ] || { echo "sam build needs a Python 3.12 (pyenv install 3.12)"; return 1; }
  (cd "$examples/sam" && PATH=$python312:$PATH SAM_CLI_TELEMETRY=0 "$tools/venv/bin/sam" build 2>&1 | grep -v '^$\|^\[\*\]\|^=\+$\|Commands you can') || return 1
  "$python" - "$built" "$examples/sam/$1" <<'PY'
import os, sys
from samtranslator.yaml_helper import yaml_parse
built, zip_path = sys.argv[1:]
resources = yaml_parse(open(built + '/template.yaml').read())['Resources']
layer = resources['ShmRedirectLayer']['Properties']
function = resources['Workers']['Properties']
checks = {
    'the layer is the release zip': os.path.realpath(os.path.join(built, layer['ContentUri'])) == os.path.realpath(zip_path),
    'the function holds app.py': sorted(os.listdir(os.path.join(built, function['CodeUri']))) == ['app.py'],
    'the function keeps the layer and LD_PRELOAD': function['Layers'] == [{'Ref': 'ShmRedirectLayer'}]
    and function['Environment']['Variables']['LD_PRELOAD'] == '/opt/lib/shm_redirect.so',
}
for what, ok in checks.items():
    print('sam build: %s: %s' % (what, 'yes' if ok else 'NO'))
sys.exit(0 if all(checks.values()) else 1)
PY
}

# `sam local invoke` with registries unreachable: --invoke-image gives SAM the stand-in of
# public.ecr.aws/lambda/python:3.12 (test/integration/images/ensure-base.sh, kept in the overlay storage of stage
# images), on which SAM builds its image with its emulator and the layer, as it would on AWS's. A normal container
# has /dev/shm, where multiprocessing works without the fix; Lambda's has none. So the containers of this podman
# service get a private IPC namespace with no /dev/shm mounted (ipcns = "none"), and the function must work with
# the layer and fail as on Lambda with LD_PRELOAD emptied (--env-vars).
sam_local_invoke() {
  local base sock=$work/podman.sock with without status=0
  base=$(CLM_PODMAN_STORAGE_DRIVER=overlay bash "$repo/test/integration/images/ensure-base.sh" 3.12 x86_64) || return 1
  sed 's/^\[containers\]$/&\nipcns = "none"/' "$repo/test/tools/podman/containers.conf" >"$work/containers.conf"
  # test/tools/podman/docker's flags for overlay storage, but not its CONTAINERS_CONF, which would replace this one.
  CONTAINERS_CONF=$work/containers.conf podman --runtime runc --storage-driver overlay \
    --root "$cache/podman/storage-overlay" --runroot /run/clm-podman-overlay system service --time 0 "unix://$sock" &
  service=$!
  # Up to 30 s: a loaded machine starts the service slowly; one that died says so instead of SAM.
  for _ in $(seq 300); do [ -S "$sock" ] && break; kill -0 "$service" 2>/dev/null || break; sleep 0.1; done
  [ -S "$sock" ] || { echo "podman system service did not start"; kill "$service" 2>/dev/null; service=; return 1; }
  echo '{}' >"$work/event.json"
  echo '{"Workers": {"LD_PRELOAD": ""}}' >"$work/no-preload.json"
  sam_invoke() {
    (cd "$examples/sam" && DOCKER_HOST=unix://$sock SAM_CLI_TELEMETRY=0 TMPDIR=$work timeout 300 \
      "$tools/venv/bin/sam" local invoke Workers --invoke-image "$base" --skip-pull-image \
      --layer-cache-basedir "$work/sam-layers" --event "$work/event.json" "$@" 2>>"$work/sam-invoke.log")
  }
  echo "sam local invoke on $base, no /dev/shm:"
  with=$(sam_invoke) && without=$(sam_invoke --env-vars "$work/no-preload.json") || status=1
  # SAM builds its image again on each invoke (the layer is in the template): the images go, their layers too.
  CLM_PODMAN_STORAGE_DRIVER=overlay "$repo/test/tools/podman/docker" images -q --filter reference=samcli/lambda-python |
    sort -u | xargs -r env CLM_PODMAN_STORAGE_DRIVER=overlay "$repo/test/tools/podman/docker" rmi -f >/dev/null
  kill "$service"; wait "$service" 2>/dev/null; service=
  [ $status = 0 ] || { cat "$work/sam-invoke.log"; echo; return 1; }
  grep -m 1 '^Mounting' "$work/sam-invoke.log" | sed 's/^/  /'
  echo "  with the layer: $with"
  without=$(python3 -c 'import json, sys; r = json.loads(sys.argv[1]); print(r["errorType"] + ": " + r["errorMessage"])' \
    "$without" 2>/dev/null || echo "$without")
  echo "  LD_PRELOAD empty: $without"
  # SAM exits 0 when the function raises; what it returned says which.
  [ "$with" = '{"squares": [0, 1, 4, 9, 16], "shared": 42}' ] &&
    [ "$without" = 'FileNotFoundError: [Errno 2] No such file or directory' ] || { cat "$work/sam-invoke.log"; echo; return 1; }
}

serverless() {
  local dir=$examples/serverless zip port
  zip=$(yaml_value "$dir/serverless.yml" layers shmRedirect package artifact) &&
    place_zip "$dir" "$zip" || return 1
  python3 "$repo/test/release/cloudformation-first-deploy.py" "$work/port" &
  stand_in=$!
  for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
  port=$(cat "$work/port") || return 1
  (cd "$dir" && AWS_ENDPOINT_URL_CLOUDFORMATION=http://127.0.0.1:$port AWS_ACCESS_KEY_ID=AKIDOFFLINEEXAMPLE \
    AWS_SECRET_ACCESS_KEY=offline SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off NODE_NO_WARNINGS=1 \
    timeout 120 "$tools/$OSLS/node_modules/.bin/osls" package 2>&1 | grep -v '^$') || return 1
  kill "$stand_in"; stand_in=
  python3 - "$dir/.serverless" "$zip" <<'PY'
import json, sys, zipfile
out, zip_name = sys.argv[1:]
resources = json.load(open(out + '/cloudformation-template-update-stack.json'))['Resources']
layer = resources['ShmRedirectLambdaLayer']['Properties']
function = next(r['Properties'] for r in resources.values() if r['Type'] == 'AWS::Lambda::Function')
code = sorted(zipfile.ZipFile(out + '/multiprocessing-workers.zip').namelist())
checks = {
    'layer from ' + zip_name: layer['Content']['S3Key'].endswith('/' + zip_name),
    'layer for x86_64': layer['CompatibleArchitectures'] == ['x86_64'],
    'function with the layer': function['Layers'] == [{'Ref': 'ShmRedirectLambdaLayer'}],
    'function with LD_PRELOAD': function['Environment']['Variables'] == {'LD_PRELOAD': '/opt/lib/shm_redirect.so'},
    'function on x86_64': function['Architectures'] == ['x86_64'],
    'function package holds app.py only': code == ['app.py'],
}
for what, ok in checks.items():
    print('packaged: %s: %s' % (what, 'yes' if ok else 'NO'))
sys.exit(0 if all(checks.values()) else 1)
PY
}

terraform() {
  local zip
  zip=$("$python" "$repo/test/release/terraform_check.py" "$examples/terraform") && place_zip "$examples/terraform" "$zip"
}

check "same function" same_function
check sam sam
check "sam local invoke" sam_local_invoke
check serverless serverless
check terraform terraform
echo "outside-cdk: $passed passed, $failed failed"
[ "$failed" = 0 ]
