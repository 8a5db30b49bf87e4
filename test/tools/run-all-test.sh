#!/usr/bin/env bash
# Stage run-all-tools: what test/run-all.sh runs around the stages, on made-up stages.
# test/tools/critical-path.sh (the summary's last lines), on stage logs whose critical path is known: the chain
# goes back through the prerequisite that ended last (not the first listed, not one that did not run), a failed
# stage is a link like any other, an order-only prerequisite counts, and the waits for a job slot are told.
# test/tools/stage-order.sh (the order make gets the stages in): longest chain first, not longest stage first.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/critical-path-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# stage NAME START TOOK [OUTCOME]: a stage that ran, as test/tools/stage.sh leaves it.
stage() { echo $((1000 + $2)) >"$work/$1.start"; echo "${4:-passed} $3" >"$work/$1.result"; }

expect() {
  local what=$1 want=$2 got
  got=$(bash "$here/critical-path.sh" "$work/stages.mk" "$work" 1000 2>&1)
  judge "$what" "$want" "$got"
}

judge() {
  local what=$1 want=$2 got=$3
  if [ "$got" = "$want" ]; then
    passed=$((passed + 1)); echo "ok - $what"
  else
    failed=$((failed + 1)); echo "not ok - $what"; diff <(echo "$want") <(echo "$got") | sed 's/^/# /'
  fi
}

cat >"$work/stages.mk" <<'MK'
STAGE = @true
layer:
	$(STAGE)
construct:
	$(STAGE)
slow: layer
	$(STAGE)
quick: layer construct
	$(STAGE)
last: quick slow
	$(STAGE)
after: | construct
	$(STAGE)
unasked: layer
	$(STAGE)
MK
stage layer 0 30
stage construct 0 100
stage slow 30 200 failed
stage quick 100 20
stage last 240 50
expect "the chain through the prerequisite that ended last, a failed one included" \
"critical path (the stage that ended last, back through the stage each needed that ended last):
  layer                 30 s  from     0 s to    30 s
  slow                 200 s  from    30 s to   230 s
  last                  50 s  from   240 s to   290 s  (waited 10 s for a job slot)
critical path: 290 s, of which 280 s in its stages and 10 s waiting for a job slot"

stage after 150 400
expect "an order-only prerequisite is a link; a stage started late waited for a slot" \
"critical path (the stage that ended last, back through the stage each needed that ended last):
  construct            100 s  from     0 s to   100 s
  after                400 s  from   150 s to   550 s  (waited 50 s for a job slot)
critical path: 550 s, of which 500 s in its stages and 50 s waiting for a job slot"

rm "$work"/*.start "$work"/*.result
stage construct 5 10
expect "only stages that ran: one stage, which started after the run" \
"critical path (the stage that ended last, back through the stage each needed that ended last):
  construct             10 s  from     5 s to    15 s  (waited 5 s for a job slot)
critical path: 15 s, of which 10 s in its stages and 5 s waiting for a job slot"

rm "$work"/*.start "$work"/*.result
expect "no stage ran" "critical path: no stage ran"

# The stages above: last (50 s) needs quick (20 s) and slow (200 s); after (400 s) needs construct (100 s).
printf '%s\n' '# seconds' 'layer 30' 'construct 100' 'slow 200  # a comment' 'quick 20' 'last 50' 'after 400' >"$work/times"
judge "longest chain first: construct (500 s with after) before layer (280 s); one not listed counts 60 s" \
  "$(printf '%s\n' construct after layer slow quick unasked last)" \
  "$(bash "$here/stage-order.sh" "$work/stages.mk" "$work/times" 2>&1)"

echo "run-all-tools: $passed passed, $failed failed"
[ "$failed" = 0 ]
