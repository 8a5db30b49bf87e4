#!/usr/bin/env bash
# Runs a command in an environment that looks like a Lambda execution environment where it matters for
# shared memory: a /dev with only Lambda's device nodes (no /dev/shm), /tmp on disk rather than tmpfs, and
# optionally another root filesystem, a read-only root and an unprivileged user.
#
# Everything happens in a private mount namespace. The host's /dev/shm is never touched: /dev is one devtmpfs
# shared by all namespaces, so the sandbox mounts a fresh ramfs over /dev instead of removing anything from it.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: lambda-sandbox.sh [options] [--] COMMAND [ARG...]

  --rootfs DIR         chroot into DIR (a Debian root filesystem, possibly of another architecture run through
                       binfmt_misc); default: the host's own root
  --tmp DIR            use DIR (on disk) as /tmp
  --tmp-image MIB      use a fresh loop-mounted ext4 image of MIB MiB as /tmp (like Lambda's ephemeral storage);
                       the default, with 4096 MiB (sparse), so that what a test sees of /tmp, its free space
                       among it, is its own and never the host's
  --bind SRC:DST[:ro]  bind-mount SRC at DST inside the sandbox (repeatable); a missing DST is created, on the
                       host's own filesystem when there is no --rootfs
  --read-only          make the root filesystem read-only (/tmp stays writable), as on Lambda
  --user UID[:GID]     run COMMAND as this user (default: the caller)
  --workdir DIR        run COMMAND in DIR (default: the current directory when it exists inside, else /)
  --root-tmpfs DIR     mount a tmpfs owned by root, mode 0755, at DIR: one the --user cannot write. glibc before
                       2.34, finding no /dev/shm, takes the first tmpfs in /proc/mounts as its shm directory, so
                       sem_open and shm_open then fail with EACCES (PermissionError: [Errno 13]) instead of ENOSYS

Without --rootfs, the caller's directory stays visible even under /tmp: its top directory there (e.g.
/tmp/clone for /tmp/clone/layer) is bound into the sandbox's fresh /tmp.
  -h, --help           this text

Inside: /dev is a read-only ramfs with null, zero, full, random, urandom, stdin, stdout, stderr and fd only;
/proc is mounted; /tmp is on disk. The exit status is COMMAND's.
USAGE
}

die() { echo "lambda-sandbox: $*" >&2; exit 2; }

rootfs="" tmp_dir="" tmp_image_mib="" read_only=0 user="" workdir="" root_tmpfs="" binds=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rootfs) rootfs=${2:?--rootfs needs a directory}; shift 2 ;;
    --tmp) tmp_dir=${2:?--tmp needs a directory}; shift 2 ;;
    --tmp-image) tmp_image_mib=${2:?--tmp-image needs a size in MiB}; shift 2 ;;
    --bind) binds+=("${2:?--bind needs SRC:DST[:ro]}"); shift 2 ;;
    --read-only) read_only=1; shift ;;
    --user) user=${2:?--user needs UID[:GID]}; shift 2 ;;
    --workdir) workdir=${2:?--workdir needs a directory}; shift 2 ;;
    --root-tmpfs) root_tmpfs=${2:?--root-tmpfs needs a directory}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { usage >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "needs root (mount namespaces, mknod, chroot)"
[ -z "$rootfs" ] || [ -d "$rootfs" ] || die "--rootfs $rootfs is not a directory"
[ -z "$tmp_dir" ] || [ -z "$tmp_image_mib" ] || die "--tmp and --tmp-image exclude each other"
case "$tmp_image_mib" in ''|*[!0-9]*) [ -z "$tmp_image_mib" ] || die "--tmp-image takes a whole number of MiB" ;; esac
for spec in "${binds[@]+"${binds[@]}"}"; do
  IFS=: read -r src dst mode extra <<<"$spec"
  [ -n "$src" ] && [ -n "$dst" ] && [ -z "$extra" ] || die "--bind $spec: expected SRC:DST[:ro]"
  [ -e "$src" ] || die "--bind source $src does not exist"
  case "$dst" in /*) ;; *) die "--bind $spec: DST must be an absolute path" ;; esac
  case "$mode" in ''|ro) ;; *) die "--bind $spec: the only mode is ro" ;; esac
done
case "$workdir" in ''|/*) ;; *) die "--workdir takes an absolute path" ;; esac
case "$root_tmpfs" in ''|/?*) ;; *) die "--root-tmpfs takes an absolute path other than /" ;; esac
case "$root_tmpfs" in /dev|/dev/*|/tmp|/tmp/*|/proc|/proc/*) die "--root-tmpfs $root_tmpfs: not under /dev, /tmp or /proc, which the sandbox mounts itself" ;; esac

tmp_default=0
[ -n "$tmp_dir" ] || [ -n "$tmp_image_mib" ] || tmp_image_mib=4096 tmp_default=1
scratch=$(mktemp -d /var/tmp/lambda-sandbox.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
if [ -z "$tmp_dir" ]; then
  tmp_dir=$scratch/tmp
  mkdir -m 1777 "$tmp_dir"
fi
if [ -n "$tmp_image_mib" ]; then
  mkdir "$scratch/image"  # its own directory: it gets bind-mounted over itself below
  truncate -s "${tmp_image_mib}M" "$scratch/image/tmp.img"
  mkfs.ext4 -q -F -E root_owner=0:0 "$scratch/image/tmp.img"
fi

# The second half runs inside the new namespace; its arguments travel through the environment so that the
# user's COMMAND keeps its own argv untouched.
export LS_ROOTFS=${rootfs:+$(realpath "$rootfs")} LS_TMP_DIR=$(realpath "$tmp_dir") \
  LS_TMP_IMAGE=${tmp_image_mib:+$scratch/image/tmp.img} LS_TMP_DEFAULT=$tmp_default LS_READ_ONLY=$read_only LS_USER=$user \
  LS_WORKDIR=$workdir LS_ROOT_TMPFS=$root_tmpfs LS_CALLER_DIR=$PWD LS_SCRATCH=$scratch LS_BINDS=$(printf '%s\n' "${binds[@]+"${binds[@]}"}")
unshare --mount --propagation private -- bash -c '
set -euo pipefail
r=${LS_ROOTFS:-}
if [ -n "$r" ]; then
  mount --bind "$r" "$r"
  mount -t proc proc "$r/proc"
fi

# Host paths under /tmp (a bind source, or the caller'"'"'s directory when there is no --rootfs) would be hidden
# by the fresh /tmp: every bind source is first bound to a stage outside /tmp, moved into place once /tmp
# is mounted. Mount points outside /tmp are made before the root may turn read-only.
if [ -z "$r" ]; then
  case "$LS_CALLER_DIR" in
    /tmp/?*) rest=${LS_CALLER_DIR#/tmp/}; top=/tmp/${rest%%/*}
             LS_BINDS=$(printf "%s\n%s" "$top:$top" "$LS_BINDS") ;;
  esac
fi
stage=$LS_SCRATCH/binds
mkdir -p "$stage"
n=0 moves=()
while IFS= read -r spec; do
  [ -n "$spec" ] || continue
  IFS=: read -r src dst mode <<<"$spec"
  n=$((n + 1))
  if [ -d "$src" ]; then mkdir "$stage/$n"; else touch "$stage/$n"; fi
  mount --bind "$src" "$stage/$n"
  case "$dst" in
    /tmp|/tmp/*) ;;
    *) if [ -d "$src" ]; then mkdir -p "$r$dst"; else mkdir -p "$(dirname "$r$dst")"; touch "$r$dst"; fi ;;
  esac
  moves+=("$n:$dst:$mode")
done <<<"$LS_BINDS"

mkdir -p "$r/tmp"
[ -z "$LS_ROOT_TMPFS" ] || mkdir -p "$r$LS_ROOT_TMPFS"
# The image gets a mount of its own, so that the loop device writing to it does not pin the root mount
# writable (the kernel refuses to make a mount read-only while it has writers: EBUSY).
if [ -n "$LS_TMP_IMAGE" ]; then
  image_dir=$(dirname "$LS_TMP_IMAGE")
  mount --bind "$image_dir" "$image_dir"
fi
if [ "$LS_READ_ONLY" = 1 ]; then
  if [ -n "$r" ]; then mount -o remount,bind,ro "$r"; else mount -o remount,bind,ro /; fi
fi

if [ -n "$LS_TMP_IMAGE" ]; then
  mount -o loop "$LS_TMP_IMAGE" "$r/tmp"
  chmod 1777 "$r/tmp"
  # Lambda'"'"'s /tmp starts empty. An image asked for keeps it: its blocks shape where a small disk'"'"'s files go.
  [ "$LS_TMP_DEFAULT" != 1 ] || rmdir "$r/tmp/lost+found"
else
  mount --bind "$LS_TMP_DIR" "$r/tmp"
  # A bind mount inherits the read-only flag of the mount its source lives on (the root, with --read-only).
  mount -o remount,bind,rw "$r/tmp"
fi

for move in "${moves[@]+"${moves[@]}"}"; do
  IFS=: read -r n dst mode <<<"$move"
  case "$dst" in
    /tmp|/tmp/*) if [ -d "$stage/$n" ]; then mkdir -p "$r$dst"; else mkdir -p "$(dirname "$r$dst")"; touch "$r$dst"; fi ;;
  esac
  # -n: with a read-only root, libmount cannot record the move in /run/mount and would call it a failure.
  mount -n --move "$stage/$n" "$r$dst"
  [ "$mode" != ro ] || mount -n -o remount,bind,ro "$r$dst"
done

if [ -n "$LS_ROOT_TMPFS" ]; then
  mount -n -t tmpfs -o mode=755,uid=0,gid=0,size=1m,nosuid,nodev tmpfs "$r$LS_ROOT_TMPFS"
fi

# Lambda'"'"'s /dev: a handful of character devices and the fd links, nothing else, not writable.
mount -t ramfs -o mode=755 ramfs "$r/dev"
for node in null:3 zero:5 full:7 random:8 urandom:9; do
  mknod -m 666 "$r/dev/${node%%:*}" c 1 "${node#*:}"
done
ln -s /proc/self/fd "$r/dev/fd"
ln -s /proc/self/fd/0 "$r/dev/stdin"
ln -s /proc/self/fd/1 "$r/dev/stdout"
ln -s /proc/self/fd/2 "$r/dev/stderr"
mount -o remount,ro "$r/dev"

uid=${LS_USER%%:*} gid=${LS_USER#*:}
[ "$gid" != "$LS_USER" ] || gid=$uid
if [ -n "$LS_WORKDIR" ]; then
  workdir=$LS_WORKDIR
  [ -d "$r$workdir" ] || { echo "lambda-sandbox: --workdir $workdir does not exist inside the sandbox" >&2; exit 2; }
else
  workdir=$LS_CALLER_DIR
  [ -d "$r$workdir" ] || workdir=/
fi
unset LS_ROOTFS LS_TMP_DIR LS_TMP_IMAGE LS_TMP_DEFAULT LS_READ_ONLY LS_USER LS_WORKDIR LS_ROOT_TMPFS LS_CALLER_DIR LS_SCRATCH LS_BINDS
if [ -n "$r" ]; then
  if [ -n "$uid" ]; then
    exec chroot --userspec="$uid:$gid" "$r" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$workdir" "$@"
  fi
  exec chroot "$r" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$workdir" "$@"
fi
cd "$workdir"
if [ -n "$uid" ]; then
  exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
fi
exec "$@"
' lambda-sandbox "$@"
