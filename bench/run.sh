#!/usr/bin/env bash
# Benchmarks the fix against native Linux and against lambda-multiprocessing, side by side in one run, and
# writes the report (docs/benchmarks.md for a full run). See --help.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: bash bench/run.sh [--smoke] [--reps N] [--only GROUP[,GROUP...]] [--python EXE] [--library FILE]
                         [--out FILE]

  --smoke       reduced sizes and 2 repetitions (well under a minute): checks that the harness works; its
                figures mean nothing. Writes $CLM_CACHE_DIR/bench/smoke.md unless --out is given.
  --reps N      repetitions of every workload under every variant (default 5; smoke 2)
  --only LIST   run only these groups: c, samefs, python, pool, shm, startup, reclaim, synth (default: all)
  --python EXE  the interpreter to measure (default: the one `python3` runs)
  --library FILE
                measure this shm_redirect.so (e.g. another commit's build) instead of building the checkout's;
                the report names the file and its sha256
  --out FILE    where the markdown report goes (default for a full run: docs/benchmarks.md)

Variants: (a) native, the host with its /dev/shm and no library; (b) the library (LD_PRELOAD) in
test/tools/lambda-sandbox.sh, which has no /dev/shm, with /tmp on a fresh ext4 image; (c) where it applies,
lambda-multiprocessing from PyPI in the same sandbox; for the samefs group, glibc with its /dev/shm
bind-mounted (in a private mount namespace) on another directory of that image. Needs root (the sandbox, the
loop mount), cc, python3, mkfs.ext4, valgrind for the startup group, and node with the repository's
node_modules (npm ci) for the synth group. Cached under ${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}/bench.
USAGE
}

die() { echo "bench: $*" >&2; exit 2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
smoke=0 reps="" only="" out="" python_arg="" library=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1; shift ;;
    --reps) reps=${2:?--reps needs a number}; shift 2 ;;
    --only) only=${2:?--only needs a list of groups}; shift 2 ;;
    --out) out=${2:?--out needs a file}; shift 2 ;;
    --python) python_arg=${2:?--python needs an interpreter}; shift 2 ;;
    --library) library=${2:?--library needs a file}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument $1" ;;
  esac
done
if [ -n "$library" ]; then
  [ -f "$library" ] || die "--library: no such file $library"
  library=$(cd "$(dirname "$library")" && pwd)/$(basename "$library")
fi
case "$reps" in ''|*[!0-9]*|0) [ -z "$reps" ] || die "--reps takes a positive whole number, got $reps" ;; esac
[ "$(id -u)" = 0 ] || die "needs root: the Lambda-like sandbox uses mount namespaces"
command -v cc >/dev/null || die "needs a C compiler (cc)"
case ",$only," in ,,|*,startup,*|*,reclaim,*) command -v valgrind >/dev/null || die "the startup and reclaim groups need valgrind (callgrind)" ;; esac
[ -x "$repo/node_modules/.bin/ts-node" ] || case ",$only," in
  ,,|*,synth,*) die "the synth group needs the repository's node_modules (npm ci)" ;;
esac

cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}/bench
# The interpreter itself, not a version manager's shim script, whose own start-up would swamp the figures.
python=$("${python_arg:-python3}" -c 'import sys; print(sys.executable)') \
  || die "cannot run the interpreter ${python_arg:-python3}"
pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
lmp_version=1.1
lmp=$cache/lambda-multiprocessing-$lmp_version-py$pyver

if [ "$smoke" = 1 ]; then
  reps=${reps:-2} out=${out:-$cache/smoke.md}
else
  reps=${reps:-5} out=${out:-$repo/docs/benchmarks.md}
fi

started=$SECONDS
mkdir -p "$cache"
work=$(mktemp -d "$cache/run.XXXXXX")
# The sandbox's /tmp, and glibc's /dev/shm for the samefs group: two directories of a fresh ext4 image that
# nothing else writes to. Lambda gives each execution environment a fresh file system as /tmp, and here the
# machine's own disk, its journal shared with every other job and the state earlier builds left in it, moved
# single figures several-fold between runs (spreads of +-300 %). Never tmpfs: glibc < 2.34 would even adopt a
# tmpfs as its shm directory.
command -v mkfs.ext4 >/dev/null || die "needs mkfs.ext4 (e2fsprogs) for the sandbox's /tmp"
disk=$work/disk
max_map_count=$(cat /proc/sys/vm/max_map_count)
cleanup() {
  if mountpoint -q "$disk"; then umount "$disk"; fi
  rm -rf "$work"
  if [ "$(cat /proc/sys/vm/max_map_count)" != "$max_map_count" ]; then
    echo "$max_map_count" > /proc/sys/vm/max_map_count
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM # so that the cleanup runs on an interrupt too
echo "bench: making the sandbox's /tmp, a fresh 2 GiB ext4 image" >&2
mkdir "$disk"
truncate -s 2G "$work/disk.img"
# An inode per 4 KiB: room for the 100,000 semaphores held open (a page each) besides the other objects.
mkfs.ext4 -q -F -i 4096 "$work/disk.img"
mount -o loop "$work/disk.img" "$disk"
# The samefs group's sandbox gets a /tmp of its own: an ext4 directory keeps the size of the most entries it
# ever held, and a /tmp/shm that once held 100,000 semaphores would slow every later scan of it (the reclaim
# group's) for the rest of the run.
sandbox_tmp=$disk/tmp samefs_tmp=$disk/samefs-tmp glibc_shm=$disk/devshm
mkdir "$sandbox_tmp" "$samefs_tmp" "$glibc_shm"
chmod 1777 "$sandbox_tmp" "$samefs_tmp" "$glibc_shm"
# 100,000 semaphores open are 100,000 mappings, for glibc as for the library: past the kernel's default limit
# (65,530). The limit is machine-wide, so it is put back on exit.
if [ "$smoke" = 0 ] && [ "$max_map_count" -lt 262144 ]; then
  case ",$only," in ,,|*,samefs,*)
    echo "bench: vm.max_map_count $max_map_count -> 262144 for the run (put back on exit)" >&2
    echo 262144 > /proc/sys/vm/max_map_count ;;
  esac
fi

# A private copy: bash reads a script as it runs it, so an edit in the checkout during a run would break it.
cp "$repo/test/tools/lambda-sandbox.sh" "$work/lambda-sandbox.sh"

arch=$(uname -m)
case "$arch" in x86_64) larch=x86_64 ;; aarch64) larch=arm64 ;; *) die "unsupported machine $arch" ;; esac
if [ -z "$library" ]; then
  echo "bench: building shm_redirect.so ($larch)" >&2
  sh "$repo/layer/build.sh" --arch "$larch" --out "$work/lib" >&2
  [ -f "$work/lib/shm_redirect.so" ] || die "layer/build.sh produced no $work/lib/shm_redirect.so"
  library=$work/lib/shm_redirect.so
  built=1
else
  built=0
fi
echo "bench: building the C microbenchmark" >&2
cc -O2 -Wall -Wextra -Werror -o "$work/shm_ops" "$repo/bench/shm_ops.c" -pthread

if [ ! -d "$lmp/lambda_multiprocessing" ]; then
  echo "bench: installing lambda-multiprocessing==$lmp_version into $lmp" >&2
  rm -rf "$lmp.partial"
  "$python" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --target "$lmp.partial" \
    "lambda-multiprocessing==$lmp_version" >&2
  mv "$lmp.partial" "$lmp"
fi
echo "bench: setup took $((SECONDS - started)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2

args=(--reps "$reps" --python "$python" --sandbox "$work/lambda-sandbox.sh" --tmp "$sandbox_tmp"
  --library "$library" --shm-ops "$work/shm_ops" --lmp "$lmp" --lmp-version "$lmp_version"
  --work "$work" --samefs-tmp "$samefs_tmp" --glibc-shm "$glibc_shm" --out "$out")
[ "$smoke" = 0 ] || args+=(--smoke)
[ "$built" = 1 ] || args+=(--library-given)
[ -z "$only" ] || args+=(--only "$only")
"$python" "$repo/bench/driver.py" "${args[@]}"
echo "bench: done in $((SECONDS - started)) s; report: $out" >&2
