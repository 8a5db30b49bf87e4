#!/bin/sh
# Prints the newest release of PyPI's ziglang (what `pip install ziglang` installs today), asking pip, with
# whatever index it is configured with: $CLM_PIP (a command, such as a venv's python -m pip; Debian's
# python3 has none) or python3 -m pip. Fails, saying why on stderr, when it cannot ask or PyPI does not answer.
set -eu
pip=${CLM_PIP:-python3 -m pip}
$pip --version >/dev/null 2>&1 || { echo "no pip ($pip)" >&2; exit 1; }
newest=$($pip index versions ziglang --disable-pip-version-check --timeout 20 --retries 1 2>/dev/null |
  sed -n 's/^ziglang (\(.*\))$/\1/p')
[ -n "$newest" ] || { echo "PyPI out of reach ($pip index versions ziglang)" >&2; exit 1; }
echo "$newest"
