#!/usr/bin/env bash
# Builds every artefact of a release into dist/ from this checkout, then checks each (release/check.sh). What
# `npx projen release:local VERSION` runs after it has bumped the version, and what the release workflow runs
# at a tag (docs/releasing.md). The tree must be clean: the provenance names the commit it was built from.
#
#   dist/js, dist/python, dist/java, dist/go   the four language packages (projen's package:* tasks, one version)
#   dist/layer/shm-redirect-L-ARCH.zip         lib/shm_redirect.so at the zip's root (-> /opt/lib), x86_64 and arm64
#   dist/image/shm-redirect-L.oci.tar          the FROM-scratch image of both architectures (package:image)
#   dist/provenance.intoto.json                in-toto statement: sources with hashes, compilers and flags, glibc floor
#   dist/RELEASE_NOTES.md                      the changelog's entry, the library's sha256 per architecture, how to verify
#   dist/SHA256SUMS                            every file above
#
# L is the library's version (layer/VERSION), the packages' is VERSION. Needs what the construct stage needs
# (node_modules, gcc, gcc-aarch64-linux-gnu, the JDK and Maven, Go), podman, zip tools (python3), readelf.
# CLM_PODMAN names another podman command; CLM_RELEASE_BASE_IMAGE the x86_64 image with python3 that the
# COPY --from check builds on (default: Debian 12's root filesystem, test/tools/podman/ensure-image.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "release/build: $*" >&2; exit 1; }
version=$(cat VERSION)
library=$(cat layer/VERSION)
[ -z "$(git status --porcelain)" ] || die "the tree has uncommitted changes (git status); a release is built from a commit"
[ "$(node -p 'require("./package.json").version')" = "$version" ] ||
  die "package.json's version is not VERSION's ($version): run npx projen"
started=$SECONDS
step() { echo "release/build: $* ($((SECONDS - started)) s)"; }

rm -rf dist
work=$(mktemp -d "${TMPDIR:-/tmp}/release-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

step "the four language packages, $version (npx projen package-all)"
npx projen package-all

# Each library as the prebuilt ones and the image's are built (layer/build.sh --werror with the default
# compiler of each architecture), through release/record-cc.sh so that the provenance has the exact command.
host=$(uname -m)
mkdir -p dist/layer
for arch in x86_64 arm64; do
  case $arch in x86_64) triple=x86_64 ;; arm64) triple=aarch64 ;; esac
  if [ "$host" = "$triple" ]; then real=cc; else real=$triple-linux-gnu-gcc; fi
  step "library $library for $arch ($real)"
  CLM_CC_REAL=$real CLM_CC_LOG=$work/cc-$arch.log sh layer/build.sh --arch "$arch" --werror \
    --cc "$PWD/release/record-cc.sh" --out "$work/lib/$arch"
  echo "$real" >"$work/cc-$arch.real"
  sh layer/audit.sh --arch "$arch" "$work/lib/$arch/shm_redirect.so"
  python3 release/layer-zip.py "$work/lib/$arch/shm_redirect.so" "dist/layer/shm-redirect-$library-$arch.zip"
done

step "the FROM-scratch image (npx projen package:image)"
npx projen package:image

step "provenance, release notes, SHA256SUMS"
python3 release/provenance.py --work "$work" --out dist/provenance.intoto.json
python3 release/notes.py --provenance dist/provenance.intoto.json --out dist/RELEASE_NOTES.md
(cd dist && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort | xargs sha256sum >SHA256SUMS)

step "checks"
bash release/check.sh dist
step "dist/ is complete: $(wc -l <dist/SHA256SUMS) files in dist/SHA256SUMS"
