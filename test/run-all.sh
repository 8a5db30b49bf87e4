#!/usr/bin/env bash
# Every test of the project: the README's test command, and all that CI runs (.ci/run). It first installs what
# the stages need on Debian 12 (test/tools/deps/setup.sh), then runs the stages of test/stages.mk with make:
# CLM_JOBS at a time (default: the number of cores), each once the stages it needs have passed; a failing stage
# does not stop the others, but the stages that need it do not run. Each stage's output is printed whole when it
# ends; every minute a line tells which stages are running and what each printed last. The exit status says
# whether all passed. The stages with the longest chains start first (test/tools/stage-order.sh); the summary gives
# each stage's time and the critical path of the run (test/tools/critical-path.sh).
#
#   bash test/run-all.sh [STAGE...]     only these stages, and the stages they need
set -uo pipefail
cd "$(dirname "$0")/.."

mapfile -t stages < <(sed -n 's/^\([a-z0-9][a-z0-9.-]*\):.*/\1/p' test/stages.mk)
asked=("$@")
[ $# -gt 0 ] || asked=("${stages[@]}")
for name in "${asked[@]}"; do
  [[ " ${stages[*]} " == *" $name "* ]] || { echo "run-all: no stage '$name' (${stages[*]})" >&2; exit 2; }
done

# What the stages need (Debian packages, node_modules, Go), installed where missing.
source test/tools/deps/setup.sh

jobs=${CLM_JOBS:-$(nproc)}
export CLM_STAGE_LOGS
CLM_STAGE_LOGS=$(mktemp -d "${TMPDIR:-/tmp}/run-all.XXXXXX")

heartbeat() {
  local log name line out
  while sleep 60; do
    out=""
    for log in "$CLM_STAGE_LOGS"/*.log; do
      name=$(basename "$log" .log)
      [ -e "$CLM_STAGE_LOGS/$name.result" ] && continue
      line=$(tail -c 2000 "$log" | tr '\r' '\n' | grep -v '^[[:space:]]*$' | tail -n 1 | cut -c1-100)
      out+=" [$name $(($(date +%s) - $(cat "$CLM_STAGE_LOGS/$name.start"))) s: ${line:-...}]"
    done
    [ -z "$out" ] || echo "--- running:$out"
  done
}
heartbeat &
heartbeat_pid=$!
trap 'kill "$heartbeat_pid" 2>/dev/null; rm -rf "$CLM_STAGE_LOGS"' EXIT

# make starts the goals in the order given: the longest chains first (test/tools/stage-order.sh).
goals=()
while read -r name; do
  [[ " ${asked[*]} " == *" $name "* ]] && goals+=("$name")
done < <(bash test/tools/stage-order.sh test/stages.mk test/stage-times.txt)
[ ${#goals[@]} = ${#asked[@]} ] || { echo "run-all: test/tools/stage-order.sh left stages out" >&2; exit 2; }

# The stages write "started" lines to descriptor 3, which make leaves alone, so they show at once.
stages_start=$(date +%s)
make --no-print-directory -k -j"$jobs" -O -f test/stages.mk "${goals[@]}" 3>&1

echo
echo "=============== summary (CLM_JOBS=$jobs, $SECONDS s in all)"
passed=0 failed=()
for name in "${stages[@]}"; do
  if [ -e "$CLM_STAGE_LOGS/$name.result" ]; then
    read -r outcome took <"$CLM_STAGE_LOGS/$name.result"
    printf '%-18s %5d s  %s\n' "$name" "$took" "${outcome/passed/ok}"
    if [ "$outcome" = passed ]; then passed=$((passed + 1)); else failed+=("$name"); fi
  elif [[ " ${asked[*]} " == *" $name "* ]]; then
    printf '%-18s %5s    %s\n' "$name" - "not run: a stage it needs failed"
    failed+=("$name")
  fi
done
bash test/tools/critical-path.sh test/stages.mk "$CLM_STAGE_LOGS" "$stages_start"
[ ${#failed[@]} -eq 0 ] || echo "failed stages: ${failed[*]}"
echo "stages: $passed passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
