#!/usr/bin/env bash
# Installs the wheel built from this repo (dist/python, made by
# `npx projen package:python`) into a virtual environment with aws-cdk-lib and
# constructs from PyPI, then synthesizes app.py and checks its templates
# (test_app.py). The environment is cached by requirements.txt and Python
# version under $CLM_CACHE_DIR; the wheel is reinstalled on every run.
# CLM_PYTHON_APP_REQUIREMENTS=requirements-floor.txt runs it on the oldest
# aws-cdk-lib the package supports.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
python=${PYTHON:-python3}
cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}
requirements="$here/${CLM_PYTHON_APP_REQUIREMENTS:-requirements.txt}"
start=$(date +%s)

wheel=$(ls -t "$root"/dist/python/cdk_lambda_multiprocessing-*-py3-none-any.whl 2>/dev/null | head -n 1 || true)
if [ -z "$wheel" ]; then
  echo "test/apps/python-app: no wheel in dist/python; build it with: npx projen compile && npx projen package:python" >&2
  exit 2
fi

key=$( { "$python" --version; cat "$requirements"; } | sha256sum | cut -c1-16)
venv="$cache/python-app-venv-$key"
pip() { "$venv/bin/python" -m pip --disable-pip-version-check "$@"; }
# A venv cannot be moved (its scripts name their path), so completeness is
# marked by a file written last.
if [ ! -f "$venv/.complete" ]; then
  rm -rf "$venv"
  mkdir -p "$cache"
  "$python" -m venv "$venv"
  pip install --quiet -r "$requirements"
  touch "$venv/.complete"
fi
# First the wheel's own dependencies (jsii runtime and friends), then the
# wheel itself even when a wheel of the same version is installed already.
pip install --quiet "$wheel"
pip install --quiet --no-deps --force-reinstall "$wheel"
echo "test/apps/python-app: $(basename "$wheel") with $(pip list 2>/dev/null | grep -E '^(aws-cdk-lib|constructs|jsii) ' | tr -s ' ' | paste -sd, -)"

cd "$here"
"$venv/bin/python" -m pytest -p no:cacheprovider -q test_app.py
echo "test/apps/python-app: $(( $(date +%s) - start ))s"
