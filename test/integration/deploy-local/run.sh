#!/usr/bin/env bash
# Stage deploy-local: the publisher (examples/publish-layers.ts: two regions, a workload importing from the
# publisher) and another team's app (examples/import-layers.ts: by SSM parameter, by synth-time lookup, by ARN)
# deployed with the real CDK CLI (`cdk bootstrap`, `cdk deploy`) to moto's server mode on 127.0.0.1, then read
# back with boto3 (test_deploy.py): layer versions, their permissions, the SSM parameters, the functions'
# layers. moto_server.py says which gaps of moto's CloudFormation it fills. moto and the CLI are cached under
# $CLM_CACHE_DIR, keyed by their pinned versions; the server is stopped at the end whatever happens.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}
python=${PYTHON:-python3}
cli_version=2.1149.0
account=123456789012
regions=us-east-1,eu-west-1
start=$SECONDS
say() { echo "== deploy-local: $* ($((SECONDS - start)) s)"; }

key=$( { "$python" --version; cat "$here/requirements.txt"; } | sha256sum | cut -c1-16)
venv="$cache/deploy-local-venv-$key"
if [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv" && mkdir -p "$cache"
  "$python" -m venv "$venv"
  "$venv/bin/python" -m pip --disable-pip-version-check install --quiet -r "$here/requirements.txt"
  touch "$venv/.complete"
fi
cli_dir="$cache/deploy-local-cdk-cli-$cli_version"
if [ ! -f "$cli_dir/.complete" ]; then
  rm -rf "$cli_dir" && mkdir -p "$cli_dir"
  npm install --prefix "$cli_dir" --no-audit --no-fund --no-save --loglevel=error "aws-cdk@$cli_version"
  touch "$cli_dir/.complete"
fi
cdk="$cli_dir/node_modules/.bin/cdk"
say "moto $("$venv/bin/python" -c 'import moto; print(moto.__version__)'), CDK CLI $("$cdk" --version 2>/dev/null)"

work=$(mktemp -d "${TMPDIR:-/tmp}/deploy-local.XXXXXX")
moto_pid=
stop() {
  [ -z "$moto_pid" ] || { kill "$moto_pid" 2>/dev/null; wait "$moto_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap stop EXIT
trap 'exit 143' TERM INT  # so that the EXIT trap stops moto when the stage is killed
port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/python" "$here/moto_server.py" "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 60); do
  "$venv/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "http://127.0.0.1:$port/moto-api/" 2>/dev/null && break
  kill -0 "$moto_pid" 2>/dev/null || { cat "$work/moto.log"; echo "deploy-local: moto did not start" >&2; exit 1; }
  sleep 0.5
done
say "moto on 127.0.0.1:$port"

export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
# The CLI gives CloudFormation the template as an S3 URL built from this endpoint; moto takes the bucket from
# the host name unless the host is "localhost" (moto/cloudformation/utils.py, get_stack_from_s3_url), so the
# URL names localhost: moto only parses it, nothing connects to it.
export AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION="http://localhost:$port"
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=1 NODE_NO_WARNINGS=1
unset AWS_PROFILE AWS_SESSION_TOKEN
# Each CLI call is bounded, so a hang fails the stage instead of CI.
cdk() { (cd "$work" && timeout 600 "$cdk" --no-notices --no-color "$@"); }
ts_node="$root/node_modules/.bin/ts-node --transpile-only --prefer-ts-exts"

say "cdk bootstrap"
cdk bootstrap "aws://$account/us-east-1" "aws://$account/eu-west-1" >"$work/bootstrap.log" 2>&1 ||
  { cat "$work/bootstrap.log"; exit 1; }

say "cdk deploy --all: examples/publish-layers.ts"
cdk deploy --all --require-approval never --concurrency 1 \
  --app "$ts_node $root/examples/publish-layers.ts" --output "$work/publish.out" --outputs-file "$work/publish-outputs.json" \
  -c account=$account -c regions=$regions -c shareWithAccounts=111122223333 -c organization=o-a1b2c3d4e5

version=$(cat "$root/layer/VERSION")
echo "outputs: $(tr -d ' \n' <"$work/publish-outputs.json")"
x86=$("$venv/bin/python" -c 'import json, sys; o = json.load(open(sys.argv[1]))["ShmRedirectLayers-us-east-1"]; print(next(v for k, v in o.items() if "X8664" in k))' "$work/publish-outputs.json")
arm=$("$venv/bin/python" -c 'import json, sys; o = json.load(open(sys.argv[1]))["ShmRedirectLayers-us-east-1"]; print(next(v for k, v in o.items() if "Arm64" in k))' "$work/publish-outputs.json")
say "cdk deploy --all: examples/import-layers.ts (layers $x86, $arm)"
cdk deploy --all --require-approval never --concurrency 1 \
  --app "$ts_node $root/examples/import-layers.ts" --output "$work/import.out" \
  -c account=$account -c region=us-east-1 -c libraryVersion="$version" -c x86LayerArn="$x86" -c arm64LayerArn="$arm"

say "read back with boto3"
DEPLOY_LOCAL_WORK="$work" "$venv/bin/python" -m pytest -p no:cacheprovider -q "$here/test_deploy.py"
say "passed"
