#!/usr/bin/env bash
# Stage demo-container: `npx projen demo` in its container mode, as a user without the root sandbox gets it,
# with the project's podman as the client (CDK_DOCKER=test/tools/podman/docker, as root: rootless podman would need
# subordinate uid maps and its own storage, and on this cgroup v1 machine it could not set a memory limit).
# AWS's base image cannot be pulled here, so the stand-in answers to its name (test/integration/images/ensure-aws-names.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
# The stand-ins live in the images stage's storage (overlay).
export CLM_PODMAN_STORAGE_DRIVER=overlay
bash test/integration/images/ensure-aws-names.sh x86_64
CLM_DEMO_MODE=container CDK_DOCKER=$PWD/test/tools/podman/docker npx projen demo
