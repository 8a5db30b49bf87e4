#!/bin/sh
# Usage: readme-snippet.sh LANG SOURCE [README]
# The README's usage example in LANG must be code a test runs: the lines between the "LANG-snippet:start"
# and "LANG-snippet:end" comment lines (# or //) of SOURCE equal the ```LANG block between
# <!-- LANG-snippet:start --> and <!-- LANG-snippet:end --> in README.md, blank lines at either end aside.
set -eu

lang=$1 source=$2
readme=${3:-$(dirname "$0")/../../README.md}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Drops blank lines at the start and at the end.
trim() { awk 'NF || n { line[++n] = $0 } END { while (n && line[n] !~ /[^ \t]/) n--; for (i = 1; i <= n; i++) print line[i] }'; }

sed -n "\\,^\\(#\\|//\\) $lang-snippet:start\$,,\\,^\\(#\\|//\\) $lang-snippet:end\$,p" "$source" | sed '1d;$d' | trim >"$tmp/source"
sed -n "/^<!-- $lang-snippet:start -->\$/,/^<!-- $lang-snippet:end -->\$/p" "$readme" | sed '1d;$d' >"$tmp/block"

[ -s "$tmp/source" ] || { echo "readme-snippet: no $lang-snippet markers in $source" >&2; exit 1; }
[ -s "$tmp/block" ] || { echo "readme-snippet: $readme has no <!-- $lang-snippet:start --> ... <!-- $lang-snippet:end --> block" >&2; exit 1; }
if [ "$(sed -n '1p' "$tmp/block")" != "\`\`\`$lang" ] || [ "$(sed -n '$p' "$tmp/block")" != '```' ]; then
  echo "readme-snippet: the README block between the $lang-snippet markers must be one \`\`\`$lang fence" >&2
  exit 1
fi
sed '1d;$d' "$tmp/block" | trim >"$tmp/readme"
if ! diff -u --label "README.md ($lang-snippet)" --label "$source ($lang-snippet)" "$tmp/readme" "$tmp/source" >&2; then
  echo "readme-snippet: the README's $lang snippet differs from $source; copy the lines between the markers of $source into the README" >&2
  exit 1
fi
echo "readme-snippet: README $lang snippet matches $source ($(wc -l <"$tmp/source") lines)"
