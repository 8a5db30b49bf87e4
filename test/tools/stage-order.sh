#!/usr/bin/env bash
# The order in which test/run-all.sh gives the stages to make: longest chain first. A stage's chain is its own
# cold time plus the longest chain among the stages that need it; a stage with a long chain started late ends
# the run late, whatever else ran meanwhile. make starts its goals in the order given, each when a job slot is
# free and what it needs has passed (and goes on down the list before it comes back to the top), so in file
# order the stages that fill slots early (fresh-clone, library-host) kept library-arm64 waiting 8 minutes.
# Times come from test/stage-times.txt (seconds, a cold run on a loaded 2-core machine); a stage not listed
# counts as 60 s. Ties keep the file's order.
#
#   bash test/tools/stage-order.sh STAGES_MK TIMES     prints the stages, one a line
set -euo pipefail
[ $# = 2 ] || { sed -n '2,10s/^# \{0,1\}//p' "$0" >&2; exit 2; }
mk=$1 times=$2

declare -A needs seconds chain
order=()
while IFS= read -r line; do
  name=${line%%:*}
  needs[$name]=$(tr -d '|' <<<"${line#*:}")
  seconds[$name]=60
  order+=("$name")
done < <(sed -n 's/^\([a-z0-9][a-z0-9.-]*\):/\1:/p' "$mk")
while read -r name time _; do
  [ -n "${needs[$name]+set}" ] && seconds[$name]=$time
done < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$times")

# chain_of NAME: sets chain[NAME] (each stage once; the stages form no cycle, make would refuse one).
chain_of() {
  local name=$1 other longest=0
  [ -z "${chain[$name]:-}" ] || return 0
  for other in "${order[@]}"; do
    case " ${needs[$other]} " in
      *" $name "*) chain_of "$other"; [ "${chain[$other]}" -le "$longest" ] || longest=${chain[$other]} ;;
    esac
  done
  chain[$name]=$((seconds[$name] + longest))
}

index=0
for name in "${order[@]}"; do
  chain_of "$name"
  printf '%d %d %s\n' "${chain[$name]}" "$index" "$name"
  index=$((index + 1))
done | sort -k1,1nr -k2,2n | cut -d' ' -f3
