#!/usr/bin/env bash
# Checks a release's dist/ (release/build.sh runs it last; stage `release` runs both):
#   sums          SHA256SUMS matches every file, and lists them all
#   packages      npm tarball, wheel and sdist, Maven jar and pom, Go module: each says VERSION
#   layer ARCH    the zip holds exactly lib/ and lib/shm_redirect.so (mode 755), the library passes layer/audit.sh,
#                 the same bytes as the npm package's prebuilt library, and zipping it again gives the same zip
#   image         the OCI archive's index has linux/amd64 and linux/arm64, each one layer holding exactly that
#                 architecture's library (the zip's bytes)
#   COPY --from   examples/outside-cdk/dockerfile built with podman from the archive: on x86_64 onto a base image
#                 with python3, where app.py's Pool, Lock and SharedMemory work without /dev/shm (ENOENT without
#                 LD_PRELOAD); on arm64 onto scratch, the copied library being the arm64 zip's
#   provenance    every subject's sha256 matches its file; both libraries' compiler commands are recorded
#   notes         RELEASE_NOTES.md names each library's sha256
#
#   bash release/check.sh DIST
#
# CLM_PODMAN names the podman command (default podman); CLM_RELEASE_BASE_IMAGE the x86_64 base image (default:
# Debian 12's root filesystem imported by test/tools/podman/ensure-image.sh, which needs CLM_PODMAN to be
# test/tools/podman/docker).
set -uo pipefail
[ $# = 1 ] && [ -d "$1" ] || { sed -n '2,20s/^# \{0,1\}//p' "$0" >&2; exit 2; }
dist=$(cd "$1" && pwd)
repo=$(cd "$(dirname "$0")/.." && pwd)
podman=${CLM_PODMAN:-podman}
version=$(cat "$repo/VERSION")
library=$(cat "$repo/layer/VERSION")
work=$(mktemp -d /var/tmp/release-check.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

check() {
  local name=$1 start=$SECONDS
  shift
  echo "--- check: $name"
  if "$@"; then
    passed=$((passed + 1)); echo "--- PASS $name ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1)); echo "--- FAIL $name ($((SECONDS - start)) s)"
  fi
}

sums() {
  (cd "$dist" && sha256sum --check --quiet SHA256SUMS) || return 1
  local listed present
  listed=$(cut -c67- "$dist/SHA256SUMS" | LC_ALL=C sort)
  present=$(cd "$dist" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | LC_ALL=C sort)
  [ "$listed" = "$present" ] || { echo "SHA256SUMS does not list every file:"; diff <(echo "$listed") <(echo "$present"); return 1; }
  echo "$(echo "$listed" | wc -l) files, all as summed"
}

packages() {
  local tgz=$dist/js/cdk-lambda-multiprocessing@$version.jsii.tgz got
  [ -f "$tgz" ] || { echo "no $tgz"; ls "$dist/js"; return 1; }
  got=$(tar -xzOf "$tgz" package/package.json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
  [ "$got" = "$version" ] || { echo "npm package says $got"; return 1; }
  ls "$dist/python/cdk_lambda_multiprocessing-$version-py3-none-any.whl" \
    "$dist/python/cdk_lambda_multiprocessing-$version.tar.gz" \
    "$dist/java/io/github/cdk-lambda-multiprocessing/cdk-lambda-multiprocessing/$version/cdk-lambda-multiprocessing-$version.jar" \
    "$dist/java/io/github/cdk-lambda-multiprocessing/cdk-lambda-multiprocessing/$version/cdk-lambda-multiprocessing-$version.pom" ||
    return 1
  got=$(cat "$dist/go/cdklambdamultiprocessing/version")
  [ "$got" = "$version" ] || { echo "Go module's version file says $got"; return 1; }
  echo "npm, PyPI (wheel, sdist), Maven (jar, pom) and Go: $version"
}

layer() {
  local arch=$1 zip=$dist/layer/shm-redirect-$library-$1.zip dir=$work/layer-$1
  [ -f "$zip" ] || { echo "no $zip"; return 1; }
  local listing
  listing=$(python3 -c '
import sys, zipfile
for i in zipfile.ZipFile(sys.argv[1]).infolist():
    print(i.filename, oct(i.external_attr >> 16))' "$zip")
  echo "$listing"
  [ "$listing" = "lib/ 0o40755
lib/shm_redirect.so 0o100755" ] || { echo "expected exactly lib/ and lib/shm_redirect.so, mode 755"; return 1; }
  mkdir -p "$dir" && (cd "$dir" && unzip -q "$zip") || return 1
  sh "$repo/layer/audit.sh" --arch "$arch" "$dir/lib/shm_redirect.so" || return 1
  tar -xzOf "$dist/js/cdk-lambda-multiprocessing@$version.jsii.tgz" "package/layer/prebuilt/$arch/lib/shm_redirect.so" \
    >"$dir/prebuilt.so" || return 1
  cmp "$dir/lib/shm_redirect.so" "$dir/prebuilt.so" || { echo "the npm package's prebuilt $arch library differs"; return 1; }
  python3 "$repo/release/layer-zip.py" "$dir/lib/shm_redirect.so" "$dir/again.zip" || return 1
  cmp "$zip" "$dir/again.zip" || { echo "zipping the library again gives other bytes"; return 1; }
  echo "$arch: $(sha256sum <"$dir/lib/shm_redirect.so" | cut -c1-16), audited, as in the npm package, zip reproducible"
}

image() {
  python3 - "$dist/image/shm-redirect-$library.oci.tar" "$work" <<'PY'
import io, json, sys, tarfile
archive = tarfile.open(sys.argv[1])
def blob(digest):
    return archive.extractfile('blobs/sha256/' + digest.split(':')[1]).read()
index = json.loads(archive.extractfile('index.json').read())
if index['manifests'][0]['mediaType'].endswith('index.v1+json') or 'list' in index['manifests'][0]['mediaType']:
    index = json.loads(blob(index['manifests'][0]['digest']))
found = {}
for entry in index['manifests']:
    manifest = json.loads(blob(entry['digest']))
    [layer] = manifest['layers']
    with tarfile.open(fileobj=io.BytesIO(blob(layer['digest']))) as t:
        names = sorted(m.name for m in t.getmembers() if m.isfile())
        data = t.extractfile('opt/lib/shm_redirect.so').read()
    arch = {'amd64': 'x86_64', 'arm64': 'arm64'}[entry['platform']['architecture']]
    with open('%s/layer-%s/lib/shm_redirect.so' % (sys.argv[2], arch), 'rb') as f:
        same = f.read() == data
    print('linux/%s: %s, %s' % (entry['platform']['architecture'], names, 'the zip\'s library' if same else 'NOT the zip\'s library'))
    found[arch] = same and names == ['opt/lib/shm_redirect.so']
sys.exit(0 if found == {'x86_64': True, 'arm64': True} else 1)
PY
}

# The archive into podman as a user's registry pull would give it: both platforms' images and the list.
load_image() {
  local archive=$dist/image/shm-redirect-$library.oci.tar p
  loaded=localhost/clm-release-check/shm-redirect:$library
  for p in amd64 arm64; do "$podman" pull --quiet --platform "linux/$p" "oci-archive:$archive" >/dev/null || return 1; done
  "$podman" manifest rm "$loaded" >/dev/null 2>&1 || true
  "$podman" manifest create "$loaded" >/dev/null && "$podman" manifest add --all "$loaded" "oci-archive:$archive" >/dev/null
}

copy_from_x86_64() {
  local base=${CLM_RELEASE_BASE_IMAGE:-} image=localhost/clm-release-check/function:x86_64 out
  [ -n "$base" ] || base=$(bash "$repo/test/tools/podman/ensure-image.sh" bookworm-amd64) || return 1
  "$podman" build --quiet --pull=never --platform linux/amd64 --build-arg "SHM_REDIRECT_IMAGE=$loaded" \
    --build-arg "BASE_IMAGE=$base" --tag "$image" "$repo/examples/outside-cdk/dockerfile" >/dev/null || return 1
  # Lambda's conditions that matter here: no /dev/shm, an unprivileged user.
  local run=("$podman" run --rm --platform linux/amd64 --ipc=none --user 993:990)
  out=$("${run[@]}" --entrypoint sha256sum "$image" /opt/lib/shm_redirect.so | cut -d' ' -f1)
  echo "/opt/lib/shm_redirect.so on $base: $out"
  [ "$out" = "$(sha256sum <"$work/layer-x86_64/lib/shm_redirect.so" | cut -d' ' -f1)" ] || { echo "not the zip's library"; return 1; }
  out=$("${run[@]}" --entrypoint python3 "$image" app.py 2>&1)
  echo "app.py, no /dev/shm: $out"
  [ "$out" = "{'squares': [0, 1, 4, 9, 16], 'shared': 42}" ] || return 1
  out=$("${run[@]}" --env LD_PRELOAD= --entrypoint python3 "$image" app.py 2>&1 | tail -n 1)
  echo "without LD_PRELOAD: $out"
  [ "$out" = "FileNotFoundError: [Errno 2] No such file or directory" ]
}

copy_from_arm64() {
  local dir=$work/scratch-arm64 image=localhost/clm-release-check/copy:arm64 container
  mkdir -p "$dir"
  printf '%s\n' 'ARG SHM_REDIRECT_IMAGE' 'FROM ${SHM_REDIRECT_IMAGE} AS shm-redirect' 'FROM scratch' \
    'COPY --from=shm-redirect /opt /opt' >"$dir/Dockerfile"
  "$podman" build --quiet --pull=never --platform linux/arm64 --build-arg "SHM_REDIRECT_IMAGE=$loaded" --tag "$image" "$dir" \
    >/dev/null || return 1
  container=$("$podman" create --platform linux/arm64 "$image" /none) || return 1
  "$podman" cp "$container:/opt/lib/shm_redirect.so" - | tar -xO >"$dir/copied.so"
  "$podman" rm "$container" >/dev/null
  cmp "$dir/copied.so" "$work/layer-arm64/lib/shm_redirect.so" || { echo "COPY --from for linux/arm64 copied another library"; return 1; }
  echo "COPY --from for linux/arm64: the arm64 zip's library $(sha256sum <"$dir/copied.so" | cut -c1-16)"
}

provenance() {
  python3 - "$dist" <<'PY'
import hashlib, json, os, sys, zipfile
dist = sys.argv[1]
statement = json.load(open(os.path.join(dist, 'provenance.intoto.json')))
bad = 0
for s in statement['subject']:
    name = s['name']
    if '!' in name:
        path, member = name.split('!')
        data = zipfile.ZipFile(os.path.join(dist, path)).read(member)
    else:
        data = open(os.path.join(dist, name), 'rb').read()
    if hashlib.sha256(data).hexdigest() != s['digest']['sha256']:
        print('provenance: %s has another sha256' % name); bad += 1
for arch, info in statement['predicate']['buildDefinition']['internalParameters']['library'].items():
    command = info['compilerCommand']
    if '-shared' not in command or not info['version']:
        print('provenance: no compiler command for %s' % arch); bad += 1
    print('%s: %s, %s, %d arguments, needs up to %s' % (arch, info['package'] or info['command'], info['version'],
                                                       len(command), info['glibcVersionsNeeded'][-1]))
print('%d subjects, %d sources' % (len(statement['subject']), len(statement['predicate']['buildDefinition']['resolvedDependencies']) - 1))
sys.exit(1 if bad else 0)
PY
}

notes() {
  local arch sum
  for arch in x86_64 arm64; do
    sum=$(sha256sum <"$work/layer-$arch/lib/shm_redirect.so" | cut -d' ' -f1)
    grep -q "^| $arch | \`$sum\`" "$dist/RELEASE_NOTES.md" || { echo "RELEASE_NOTES.md does not name $arch's $sum"; return 1; }
  done
  echo "RELEASE_NOTES.md names both libraries' sha256"
}

check sums sums
check packages packages
check "layer x86_64" layer x86_64
check "layer arm64" layer arm64
check image image
if load_image; then
  check "COPY --from x86_64" copy_from_x86_64
  check "COPY --from arm64" copy_from_arm64
else
  echo "--- FAIL loading the image archive into podman"; failed=$((failed + 2))
fi
check provenance provenance
check notes notes
echo "release/check: $passed passed, $failed failed"
[ "$failed" = 0 ]
