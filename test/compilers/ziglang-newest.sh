#!/bin/sh
# Prints the newest release of PyPI's ziglang (what `pip install ziglang` installs today), asking pip, with
# whatever index it is configured with: $CLM_PIP (a venv's pip; Debian's python3 has none) or python3 -m pip.
# Fails, printing nothing, when the index cannot be reached.
set -eu
newest=$(${CLM_PIP:-python3 -m pip} index versions ziglang --disable-pip-version-check --timeout 20 --retries 1 \
  2>/dev/null | sed -n 's/^ziglang (\(.*\))$/\1/p')
[ -n "$newest" ] || exit 1
echo "$newest"
