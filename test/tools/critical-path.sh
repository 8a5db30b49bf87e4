#!/usr/bin/env bash
# The critical path of a run of test/run-all.sh, for its summary: the stage that ended last, then, back through
# the prerequisites test/stages.mk gives it, the prerequisite that ended last (the one it waited for), and so
# on to a stage that needed none. Each with its start and end (seconds after the stages began), its time, and
# how long it waited for a job slot once what it needed had passed: shortening this chain, or that wait, is
# what makes a run faster; any other stage can take twice as long without changing the total.
#
#   bash test/tools/critical-path.sh STAGES_MK LOG_DIR START    LOG_DIR as test/tools/stage.sh leaves it
#                                                               (NAME.start, NAME.result); START in epoch seconds
set -euo pipefail
[ $# = 3 ] || { sed -n '2,9s/^# \{0,1\}//p' "$0" >&2; exit 2; }
mk=$1 logs=$2 run_start=$3

declare -A needs begins ends
order=()
while IFS= read -r line; do
  name=${line%%:*}
  needs[$name]=$(tr -d '|' <<<"${line#*:}")
  order+=("$name")
done < <(sed -n 's/^\([a-z0-9][a-z0-9.-]*\):/\1:/p' "$mk")

last=
for name in "${order[@]}"; do
  [ -f "$logs/$name.result" ] && [ -f "$logs/$name.start" ] || continue
  read -r _ took <"$logs/$name.result"
  begins[$name]=$(($(cat "$logs/$name.start") - run_start))
  ends[$name]=$((begins[$name] + took))
  if [ -z "$last" ] || [ "${ends[$name]}" -gt "${ends[$last]}" ]; then last=$name; fi
done
[ -n "$last" ] || { echo "critical path: no stage ran"; exit 0; }

# Back from the stage that ended last; a prerequisite that did not run (not asked for) is no link.
chain=("$last")
stage=$last
while :; do
  held=
  for need in ${needs[$stage]}; do
    [ -n "${ends[$need]:-}" ] || continue
    if [ -z "$held" ] || [ "${ends[$need]}" -gt "${ends[$held]}" ]; then held=$need; fi
  done
  [ -n "$held" ] || break
  chain=("$held" "${chain[@]}")
  stage=$held
done

echo "critical path (the stage that ended last, back through the stage each needed that ended last):"
ready=0 busy=0
for stage in "${chain[@]}"; do
  waited=$((begins[$stage] - ready))
  printf '  %-18s %5d s  from %5d s to %5d s%s\n' "$stage" $((ends[$stage] - begins[$stage])) "${begins[$stage]}" \
    "${ends[$stage]}" "$([ "$waited" -le 0 ] || echo "  (waited $waited s for a job slot)")"
  busy=$((busy + ends[$stage] - begins[$stage]))
  ready=${ends[$stage]}
done
echo "critical path: ${ends[$last]} s, of which $busy s in its stages and $((ends[$last] - busy)) s waiting for a job slot"
