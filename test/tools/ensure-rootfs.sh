#!/usr/bin/env bash
# Prints the path of a ready Debian root filesystem, building it with mmdebstrap on first use.
#
#   test/tools/ensure-rootfs.sh SUITE-ARCH[-gcc]  SUITE: bullseye (glibc 2.31) | bookworm (glibc 2.36) |
#                                                  forky (glibc 2.43, python3.14 and python3.15)
#                                           ARCH:  amd64 | arm64 (run through qemu-user and binfmt_misc)
#                                           -gcc:  SUITE-ARCH plus gcc (a container build image; gcc 16 in
#                                                  forky), made from a copy of SUITE-ARCH with apt-get in a chroot
#
# Root filesystems live in ${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}/rootfs/NAME, never in the
# repository. A build goes into a temporary directory that is renamed into place only once complete, so an
# interrupted build is never mistaken for a ready one; a stamp file records what made it (suite, architecture,
# packages and a hash of this script), and a filesystem whose stamp differs from today's is rebuilt. The mirror
# is the one apt already uses (override with CLM_DEBIAN_MIRROR). Progress goes to stderr; stdout: the path.
set -euo pipefail

die() { echo "rootfs: $*" >&2; exit 2; }
log() { echo "rootfs: $*" >&2; }

usage() { sed -n '2,14s/^# \{0,1\}//p' "$0"; }

[ $# = 1 ] || { usage >&2; exit 2; }
case "$1" in -h|--help) usage; exit 0 ;; esac
name=$1
base_name=${name%-gcc}
suite=${base_name%-*} arch=${base_name##*-}
case "$suite" in bullseye|bookworm|forky) ;; *) die "unknown suite in '$name' (bullseye, bookworm or forky)" ;; esac
case "$arch" in amd64|arm64) ;; *) die "unknown architecture in '$name' (amd64 or arm64)" ;; esac
[ "$base_name" = "$suite-$arch" ] || die "expected SUITE-ARCH or SUITE-ARCH-gcc, got '$name'"
[ "$(id -u)" = 0 ] || die "needs root (mmdebstrap, chroot, binfmt_misc)"

# What the tests need inside: Python with pytest for the multiprocessing suite, and libc6-dev so that the C
# tests can be compiled on the host against this filesystem's own glibc (--sysroot) instead of the host's.
packages=python3,python3-pytest,libc6-dev
# forky: Lambda's newest runtime (python3.14, the first whose default start method is forkserver) and the next
# one, each with CPython's own test package for its multiprocessing suites.
[ "$suite" != forky ] ||
  packages=$packages,python3.14,python3.15,libpython3.14-testsuite,libpython3.15-testsuite
# The builder is part of what made a filesystem: a change to this script rebuilds them all, and nothing else does.
stamp_text="format 2
suite $suite
arch $arch
packages $packages
builder $(sha256sum <"$0" | cut -c1-16)"
if [ "$name" != "$base_name" ]; then
  # The base filesystem is made (or found) first; its stamp is part of this one, so a rebuilt base rebuilds
  # this too.
  base=$(bash "$0" "$base_name")
  extra_packages="gcc binutils"
  [ "$suite" != forky ] || extra_packages="gcc-16 binutils"
  stamp_text="$stamp_text
from $base_name
extra $extra_packages"
fi

cache=${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}/rootfs
target=$cache/$name
stamp=.cdk-lambda-multiprocessing-rootfs

ready() { [ -f "$target/$stamp" ] && [ "$(cat "$target/$stamp")" = "$stamp_text" ]; }

host_arch=$(dpkg --print-architecture)

# apt waits for a dpkg lock held by someone else instead of failing at once.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} = 0 ] && return 0
  log "installing ${missing[*]}"
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
}

# The F (fix-binary) flag makes the kernel open the emulator at registration time, so it keeps working after
# chroot into a filesystem that does not contain it.
ensure_binfmt() {
  local misc=/proc/sys/fs/binfmt_misc entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
  apt_install qemu-user-static binfmt-support
  [ -e "$misc/register" ] || mount -t binfmt_misc binfmt_misc "$misc" || die "cannot mount binfmt_misc on $misc"
  if [ -e "$entry" ] && ! grep -q '^flags:.*F' "$entry"; then
    echo -1 >"$entry"
  fi
  [ -e "$entry" ] || update-binfmts --enable qemu-aarch64 >&2 || true
  [ -e "$entry" ] || update-binfmts --import qemu-aarch64 >&2 || true
  [ -e "$entry" ] || die "qemu-aarch64 is not registered in binfmt_misc (see update-binfmts --display)"
  grep -qx enabled "$entry" || echo 1 >"$entry"
  grep -q '^flags:.*F' "$entry" || die "qemu-aarch64 is registered without the F flag: it would fail in a chroot"
}

mirror() {
  if [ -n "${CLM_DEBIAN_MIRROR:-}" ]; then echo "$CLM_DEBIAN_MIRROR"; return; fi
  local uri
  # deb822 files name it on a URIs: line, one-line files after the type and options; take the first archive
  # (not the security one) that serves Debian.
  uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    sed -n -e 's/^URIs:[[:space:]]*//p' -e 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}//p' |
    tr ' ' '\n' | grep -E '^https?://' | grep -E '/debian/?$' | head -n 1 || true)
  [ -n "$uri" ] || die "no Debian archive in /etc/apt/sources.list*; set CLM_DEBIAN_MIRROR"
  echo "$uri"
}

# Called as an if-condition, where errexit is off: every step checks its own status.
# mmdebstrap, not debootstrap: apt resolves and downloads everything at once (in parallel), and dpkg installs
# the essential set in one call and the rest in one apt run, where debootstrap calls dpkg package by package;
# under qemu, where every dpkg call and every maintainer script is emulated, that is most of the time.
# Its sources.list, apt and dpkg settings stay in the filesystem: no Release file date check (a testing
# suite's is valid for a week only, and a mirror may serve an older one; debootstrap checked none either), and
# dpkg without fsync (a scratch filesystem: the -gcc copies install with it too).
build() {
  local work=$1 url start merged_usr=() native_python_root=
  url=$(mirror) || return 1
  # A merged /usr (/bin -> usr/bin), as debootstrap makes it: bullseye's packages do not make one, so the links
  # come first (lib64 too on amd64); bookworm's do with usrmerge (and perl), unless usr-is-merged says it is done,
  # which mmdebstrap's hook installs after making the links; forky's base-files ships the links.
  case "$suite" in
    bullseye) merged_usr=(--setup-hook="for d in bin sbin lib $([ "$arch" != amd64 ] || echo lib64); do
                ln -s usr/\$d \"\$1/\$d\" && mkdir -p \"\$1/usr/\$d\" || exit 1; done") ;;
    bookworm) merged_usr=(--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr) ;;
  esac
  [ "$arch" = "$host_arch" ] || native_python_root=$(bash "$0" "$suite-$host_arch") || return 1
  start=$(date +%s)
  log "building $name into $work (mmdebstrap $suite $arch)"
  # mmdebstrap mounts /proc, /sys and /dev inside the target; a private mount namespace guarantees that none
  # of those mounts outlives the build, even when it fails half-way. The check for a working emulator needs
  # arch-test; ensure_binfmt did it.
  unshare --mount --propagation private -- \
    mmdebstrap --mode=root --variant=minbase --architectures="$arch" --include="$packages" \
      --keyring=/usr/share/keyrings/debian-archive-keyring.gpg --skip=check/qemu \
      --aptopt='Acquire::Check-Valid-Until "false"' --dpkgopt=force-unsafe-io "${merged_usr[@]+"${merged_usr[@]}"}" \
      ${native_python_root:+--essential-hook="$defer_byte_code"} "$suite" "$work" "$url" >&2 || return 1
  [ -z "$native_python_root" ] || compile_byte_code "$work" "$native_python_root" || return 1
  printf '%s\n' "$stamp_text" >"$work/$stamp" || return 1
  log "built $name in $(($(date +%s) - start)) s"
}

# Python byte code of a foreign filesystem is compiled natively. Debian's packages compile it when they are
# configured (python3.X's postinst runs py_compile.py on the standard library, dh_python3's run py3compile on their
# modules), which under qemu is an emulated interpreter compiling a thousand files. Byte code does not depend on
# the architecture, and the same Debian release has the same interpreter for the host's: so in the essential hook
# (before apt installs Python) py_compile.py of each version apt will install is diverted and an empty one takes its
# place, which makes those steps no-ops, and py3compile is diverted so that dh_python3's snippets skip it. After the
# install both come back and the host's architecture's filesystem of the suite compiles the same files with the
# same interpreter: the standard library with its own version, the modules of dist-packages and
# /usr/share/python3 with each supported version, as py3compile would.
# shellcheck disable=SC2016 # expanded by the hook's shell
defer_byte_code='set -e
versions=$(APT_CONFIG=$MMDEBSTRAP_APT_CONFIG apt-get install --simulate --no-install-recommends '"${packages//,/ }"' |
  sed -n "s/^Inst libpython\(3\.[0-9]*\)-minimal[: ].*/\1/p")
[ -n "$versions" ]
for v in $versions; do
  chroot "$1" dpkg-divert --quiet --local --rename --divert "/usr/lib/python$v/py_compile.py.clm-native" --add "/usr/lib/python$v/py_compile.py"
  mkdir -p "$1/usr/lib/python$v"
  : >"$1/usr/lib/python$v/py_compile.py"
done
chroot "$1" dpkg-divert --quiet --local --rename --divert /usr/bin/py3compile.clm-native --add /usr/bin/py3compile'

compile_byte_code() {
  local root=$1 native=$2 diverted version supported
  diverted=$(chroot "$root" dpkg-divert --list | sed -n 's/^local diversion of \(.*\) to .*\.clm-native$/\1/p') || return 1
  for file in $diverted; do
    if [ "$file" != /usr/bin/py3compile ]; then rm -f "$root$file" || return 1; fi
    chroot "$root" dpkg-divert --quiet --local --rename --remove "$file" || return 1
  done
  supported=$(sed -n 's/^supported-versions *= *//p' "$root/usr/share/python3/debian_defaults" | tr -d ' ' | tr , ' ')
  # The filesystem is bound at /mnt of the native one in a namespace of its own, so the byte code names the
  # paths it has inside (/usr/lib/...), as when it compiles itself.
  for version in $(printf '%s\n' $diverted | sed -n 's|^/usr/lib/python\(3\.[0-9]*\)/py_compile.py$|\1|p'); do
    [ -x "$native/usr/bin/python$version" ] || { log "no python$version in $native"; return 1; }
    {
      find "$root/usr/lib/python$version" -name '*.py' -printf "/usr/lib/python$version/%P\n"
      case " $supported " in
        *" python$version "*) find "$root/usr/lib/python3/dist-packages" "$root/usr/share/python3" -name '*.py' \
          -printf '%p\n' 2>/dev/null | sed "s|^$root||" ;;
      esac
    } | unshare --mount --propagation private -- bash -c '
      mount --bind "$1" "$2/mnt" && exec chroot "$2" env -i python"$3" -E -S -W ignore -c "
import py_compile, sys
failed = 0
for name in sys.stdin.read().splitlines():
    try:
        py_compile.compile(\"/mnt\" + name, dfile=name, doraise=True)
    except py_compile.PyCompileError:
        failed += 1  # as in Debian, whose maintainer scripts leave such files (test data) out
print(\"python%s: byte code compiled natively, %d files left as source (syntax errors)\" % (sys.argv[1], failed))
" "$3"' compile "$root" "$native" "$version" >&2 || return 1
  done
}

# The -gcc variant: a copy of the base filesystem with gcc installed by its own apt (through qemu for arm64).
build_with_gcc() {
  local work=$1 start
  start=$(date +%s)
  log "building $name into $work (copy of $base_name, apt-get install $extra_packages in a chroot; under qemu this takes a while)"
  cp -a "$base/." "$work/" || return 1
  rm -f "$work/$stamp"
  cp /etc/resolv.conf "$work/etc/resolv.conf" || return 1
  # shellcheck disable=SC2086 # $extra_packages is a list of package names
  unshare --mount --propagation private -- bash -c '
    set -e
    mount -t proc proc "$1/proc"
    # (no Release file date check: the base has that setting from mmdebstrap)
    chroot "$1" apt-get -qq update
    DEBIAN_FRONTEND=noninteractive chroot "$1" apt-get install -y -qq --no-install-recommends $2 >/dev/null
    chroot "$1" apt-get clean' ensure "$work" "$extra_packages" >&2 || return 1
  printf '%s\n' "$stamp_text" >"$work/$stamp" || return 1
  log "built $name in $(($(date +%s) - start)) s"
}

# Debian's packages link libraries with absolute symlinks (libdl.so -> /lib/...), which point into the host
# when the filesystem serves as a compiler's --sysroot. Relative ones resolve the same way inside the chroot and
# from outside it. Idempotent, and cheap once done.
relink_absolute_symlinks() {
  local root=$1 link
  find "$root" -xdev -type l -lname '/*' -print0 | while IFS= read -r -d '' link; do
    ln -sfn "$(realpath -s -m --relative-to="$(dirname "$link")" "$root$(readlink "$link")")" "$link"
  done
}

mkdir -p "$cache"
command -v mmdebstrap >/dev/null || apt_install mmdebstrap
if [ "$arch" != "$host_arch" ]; then
  [ "$arch" = arm64 ] || die "building $arch on a $host_arch host is not supported"
  ensure_binfmt
fi

exec 9>"$cache/.$name.lock"
if ! flock -n 9; then
  log "waiting for another process that holds $cache/.$name.lock (building $name, most likely)"
  flock 9
fi
if ! ready; then
  rm -rf "$cache/.$name.tmp."* "$cache/.$name.old."*
  work=$(mktemp -d "$cache/.$name.tmp.XXXXXX")
  chmod 755 "$work"
  if [ "$name" != "$base_name" ]; then builder=build_with_gcc; else builder=build; fi
  if ! "$builder" "$work"; then
    rm -rf "$work"
    die "building $name failed"
  fi
  if [ -e "$target" ]; then
    old=$cache/.$name.old.$$
    mv "$target" "$old"
    mv "$work" "$target"
    rm -rf "$old"
  else
    mv "$work" "$target"
  fi
fi
relink_absolute_symlinks "$target"
echo "$target"
