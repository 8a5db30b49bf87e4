#!/usr/bin/env bash
# Stage: the Java and the Go CDK app (test/apps/java-app, test/apps/go-app), side by side after one compile. Most
# of either is waiting on downloads (cold) or on one process (jsii-pacmak, Maven, the jsii runtime), so
# running them together shortens the stage on 2 cores. Each line is prefixed with its app's name.
set -uo pipefail
cd "$(dirname "$0")/../.."

echo "== java-go-apps: compile (jsii)"
npx projen compile || exit 1

run() {
  local name=$1
  bash "test/apps/$name/run.sh" 2>&1 | sed -u "s/^/[$name] /"
}
run java-app & java=$!
run go-app & go=$!
status=0
wait "$java" || { echo "== java-go-apps: java-app FAILED"; status=1; }
wait "$go" || { echo "== java-go-apps: go-app FAILED"; status=1; }
exit "$status"
