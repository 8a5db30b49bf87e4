#!/bin/sh
# The README's Python usage must be the code test_app.py runs: the lines
# between "# python-snippet:start" and "# python-snippet:end" in app.py equal
# the lines of the ```python block between <!-- python-snippet:start --> and
# <!-- python-snippet:end --> in README.md.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
readme=${1:-$here/../../README.md}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sed -n '/^# python-snippet:start$/,/^# python-snippet:end$/p' "$here/app.py" | sed '1d;$d' >"$tmp/app"
sed -n '/^<!-- python-snippet:start -->$/,/^<!-- python-snippet:end -->$/p' "$readme" | sed '1d;$d' >"$tmp/block"

[ -s "$tmp/app" ] || { echo "check-readme: no python-snippet markers in $here/app.py" >&2; exit 1; }
[ -s "$tmp/block" ] || { echo "check-readme: $readme has no <!-- python-snippet:start --> ... <!-- python-snippet:end --> block" >&2; exit 1; }
if [ "$(sed -n '1p' "$tmp/block")" != '```python' ] || [ "$(sed -n '$p' "$tmp/block")" != '```' ]; then
  echo "check-readme: the README block between the python-snippet markers must be one \`\`\`python fence" >&2
  exit 1
fi
sed '1d;$d' "$tmp/block" >"$tmp/readme"
if ! diff -u --label "README.md (python-snippet)" --label "test/python-app/app.py (python-snippet)" "$tmp/readme" "$tmp/app" >&2; then
  echo "check-readme: the README's Python snippet differs from test/python-app/app.py; copy the block between the markers of app.py into the README" >&2
  exit 1
fi
echo "check-readme: README Python snippet matches test/python-app/app.py ($(wc -l <"$tmp/app") lines)"
