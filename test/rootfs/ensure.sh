#!/usr/bin/env bash
# Prints the path of a ready Debian root filesystem, building it with debootstrap on first use.
#
#   test/rootfs/ensure.sh SUITE-ARCH      SUITE: bullseye (glibc 2.31) | bookworm (glibc 2.36)
#                                         ARCH:  amd64 | arm64 (run through qemu-user and binfmt_misc)
#
# Root filesystems live in ${CLM_CACHE_DIR:-/var/cache/cdk-lambda-multiprocessing}/rootfs/NAME, never in the
# repository. A build goes into a temporary directory that is renamed into place only once complete, so an
# interrupted build is never mistaken for a ready one; a stamp file records what was asked for, and a
# filesystem whose stamp differs from today's request is rebuilt. The mirror is the one apt already uses
# (override with CLM_DEBIAN_MIRROR). Progress goes to stderr; stdout carries only the path.
set -euo pipefail

die() { echo "rootfs: $*" >&2; exit 2; }
log() { echo "rootfs: $*" >&2; }

usage() { sed -n '2,11s/^# \{0,1\}//p' "$0"; }

[ $# = 1 ] || { usage >&2; exit 2; }
case "$1" in -h|--help) usage; exit 0 ;; esac
name=$1
suite=${name%-*} arch=${name##*-}
case "$suite" in bullseye|bookworm) ;; *) die "unknown suite in '$name' (bullseye or bookworm)" ;; esac
case "$arch" in amd64|arm64) ;; *) die "unknown architecture in '$name' (amd64 or arm64)" ;; esac
[ "$name" = "$suite-$arch" ] || die "expected SUITE-ARCH, got '$name'"
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, binfmt_misc)"

# What the tests need inside: Python with pytest for the multiprocessing suite, and libc6-dev so that the C
# tests can be compiled on the host against this filesystem's own glibc (--sysroot) instead of the host's.
packages=python3,python3-pytest,libc6-dev
stamp_text="format 1
suite $suite
arch $arch
packages $packages"

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
build() {
  local work=$1 url start
  url=$(mirror) || return 1
  start=$(date +%s)
  log "building $name into $work (debootstrap $suite $arch; this takes a while)"
  # debootstrap mounts /proc and /sys inside the target; a private mount namespace guarantees that none of
  # those mounts outlives the build, even when it fails half-way.
  if [ "$arch" = "$host_arch" ]; then
    unshare --mount --propagation private -- \
      debootstrap --variant=minbase --arch="$arch" --include="$packages" "$suite" "$work" "$url" >&2 || return 1
  else
    unshare --mount --propagation private -- bash -c '
      set -e
      debootstrap --foreign --variant=minbase --arch="$1" --include="$2" "$3" "$4" "$5"
      chroot "$4" /debootstrap/debootstrap --second-stage' \
      ensure "$arch" "$packages" "$suite" "$work" "$url" >&2 || return 1
  fi
  # Downloaded .deb files are not needed once installed.
  rm -rf "$work/var/cache/apt/archives/"*.deb || return 1
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
command -v debootstrap >/dev/null || apt_install debootstrap
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
  if ! build "$work"; then
    [ ! -f "$work/debootstrap/debootstrap.log" ] || tail -n 30 "$work/debootstrap/debootstrap.log" >&2
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
