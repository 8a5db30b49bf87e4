#!/usr/bin/env bash
# One stage of test/run-all.sh (called by the recipes of test/stages.mk): runs the stage's command with all its
# output in $CLM_STAGE_LOGS/NAME.log, says on run-all's console (descriptor 3) that it started, then prints the
# whole log and how it ended, and leaves NAME.result ("passed SECONDS" or "failed SECONDS") for the summary.
# make -O prints what a stage printed in one piece, so stages running side by side never interleave.
#   bash test/tools/stage.sh NAME COMMAND [ARG...]
set -uo pipefail
name=$1
shift
logs=${CLM_STAGE_LOGS:?test/tools/stage.sh runs under test/run-all.sh}

# A stage's own make (make -C layer) must not join run-all's: no shared job slots, no -k, no -O.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES
date +%s >"$logs/$name.start"
echo "=============== stage $name started: $*" >&3
start=$SECONDS
"$@" >"$logs/$name.log" 2>&1 </dev/null
status=$?
took=$((SECONDS - start))
if [ "$status" = 0 ]; then outcome=passed; else outcome=failed; fi
echo "$outcome $took" >"$logs/$name.result"
echo
echo "=============== stage $name: $*"
cat "$logs/$name.log"
echo "=============== stage $name ${outcome^^} in $took s (exit $status)"
exit "$status"
