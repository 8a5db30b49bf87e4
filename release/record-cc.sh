#!/bin/sh
# The compiler layer/build.sh is given during a release build (--cc): runs the compiler it would have chosen
# itself, unchanged, and appends each command line to $CLM_CC_LOG (one argument a line, then a line
# "--end--"), so that the provenance names the exact flags the library was built with.
#   CLM_CC_REAL=aarch64-linux-gnu-gcc CLM_CC_LOG=FILE sh release/record-cc.sh ARG...
set -eu
{
    for arg in "$@"; do printf '%s\n' "$arg"; done
    echo --end--
} >>"${CLM_CC_LOG:?}"
exec "${CLM_CC_REAL:?}" "$@"
