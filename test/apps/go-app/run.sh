#!/usr/bin/env bash
# The Go CDK app (main.go) against the bindings jsii-pacmak generates: packages them into dist/go
# (`npx projen package:go`, which also compiles them), builds the app (go.mod's replace points at
# dist/go), synthesizes it and checks its templates, then checks docs/cdk.md's Go snippet.
# GOMODCACHE and GOCACHE are cached under $CLM_CACHE_DIR, keyed by go.sum and the Go version: the
# aws-cdk-go packages the app needs (awscdk, awslambda and what they import, 85 packages) take about a
# minute of CPU and 1 GB of memory to compile, which a warm cache skips. Needs `npx projen compile` first.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
app=go-app
source "$here/../steps.sh"
require_compiled

key=$( { cat "$here/go.sum"; go env GOVERSION; } | cache_key)
export GOMODCACHE="$cache/go-app-$key/mod" GOCACHE="$cache/go-app-$key/build"
mkdir -p "$GOMODCACHE" "$GOCACHE"
echo "$app: $(go version), GOMODCACHE and GOCACHE in $cache/go-app-$key"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "package:go (jsii-pacmak: the bindings into dist/go, compiled)" npx projen package:go
cd "$here"
# go build runs no vet, and builds only main's imports.
step "build the app" go build -o "$work/app" .
step "synth (CDK_OUTDIR=$work/cdk.out)" env CDK_OUTDIR="$work/cdk.out" "$work/app"
step "check the templates" check_templates "$work/cdk.out"
step "docs/cdk.md Go snippet" sh "$root/test/apps/readme-snippet.sh" go "$here/main.go" "$root/docs/cdk.md"
finish
