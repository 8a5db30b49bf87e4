# Sourced by test/apps/java-app/run.sh and test/apps/go-app/run.sh: the steps they share.
# The caller sets `app` (the name in messages) and `here` (the app's directory).
root=$(cd "$here/../../.." && pwd)
cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}
started=$SECONDS

# step NAME COMMAND...: runs COMMAND, saying what it does and how long it took.
step() {
  local name=$1 start=$SECONDS
  shift
  echo "== $app: $name"
  "$@"
  echo "== $app: $name took $((SECONDS - start)) s"
}

# A short hash of standard input (the versions that fill a cache), to key that cache by.
cache_key() {
  sha256sum | cut -c1-16
}

# jsii-pacmak turns lib/ into the bindings; without lib/ it would package nothing.
require_compiled() {
  [ -f "$root/.jsii" ] || { echo "$app: no .jsii in $root: compile first (npx projen compile)" >&2; exit 2; }
}

# The templates the app wrote meet test/apps/python-app's expectations (test_app.py --cdk-out), so the three
# languages' apps are held to one set of checks.
check_templates() {
  local python=${PYTHON:-python3}
  "$python" -c 'import pytest' 2>/dev/null ||
    { echo "$app: $python has no pytest (pip install pytest, or set PYTHON)" >&2; return 2; }
  "$python" -m pytest -p no:cacheprovider -q "$root/test/apps/python-app/test_app.py" --cdk-out "$1"
}

readme_snippet() {
  sh "$root/test/apps/readme-snippet.sh" "$@" "$root/README.md"
}

finish() {
  echo "== $app: passed in $((SECONDS - started)) s"
}
