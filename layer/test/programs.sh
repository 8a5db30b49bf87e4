#!/bin/sh
# Real programs on the virtual /dev/shm, run inside the Lambda-like sandbox
# with the library preloaded: coreutils (which reach it through openat,
# statx, newfstatat, unlinkat, renameat2, ...) and Python's os/shutil.
# Prints "ok - ..." / "not ok - ..." lines; exits non-zero on a failure.
set -u
[ $# -eq 1 ] || { echo "usage: sh layer/test/programs.sh LIB.so (inside the sandbox)" >&2; exit 2; }
lib=$1
[ ! -e /dev/shm ] || { echo "not ok - /dev/shm exists: run this inside test/tools/lambda-sandbox.sh"; exit 1; }
failed=0

# NAME EXPECTED-OUTPUT COMMAND...: COMMAND's stdout+stderr must be exactly EXPECTED.
expect() {
    name=$1 want=$2
    shift 2
    got=$(LD_PRELOAD=$lib "$@" 2>&1)
    if [ "$got" = "$want" ]; then
        echo "ok - $name"
    else
        echo "not ok - $name: expected '$want', got '$got'"
        failed=$((failed + 1))
    fi
}

expect "sh: echo > /dev/shm/x, cat, ls, rm" "hi
x
gone" sh -c 'echo hi > /dev/shm/x && cat /dev/shm/x && ls /dev/shm && rm /dev/shm/x && [ ! -e /dev/shm/x ] && echo gone'
expect "ls -ld (ACL and SELinux lookups) shows a sticky directory" "drwxrwxrwt" sh -c 'ls -ld /dev/shm | cut -c1-10'
expect "mkdir, touch, chmod, truncate, stat" "600 7" sh -c \
    'mkdir /dev/shm/d && touch /dev/shm/d/f && chmod 600 /dev/shm/d/f && truncate -s 7 /dev/shm/d/f && stat -c "%a %s" /dev/shm/d/f'
expect "cp, mv, find" "/dev/shm
/dev/shm/d
/dev/shm/d/f
/dev/shm/d/g" sh -c 'cp /dev/shm/d/f /dev/shm/d/h && mv /dev/shm/d/h /dev/shm/d/g && find /dev/shm | sort'
expect "realpath, readlink -f and cd into /dev/shm" "/dev/shm/d
/dev/shm/d
f
g" sh -c 'realpath /dev/shm/d && readlink -f /dev/shm/d && cd /dev/shm/d && ls'
expect "rm -r, df" "ok" sh -c 'rm -r /dev/shm/d && [ ! -e /dev/shm/d ] && df /dev/shm >/dev/null && echo ok'

expect "ls -la lists . and .. (that is /dev)" "drwxrwxrwt .
drwxr-xr-x ..
-rw-r--r-- x" sh -c 'umask 022 && : > /dev/shm/x && ls -la /dev/shm | awk "NR > 1 { print substr(\$1, 1, 10), \$NF }"'
expect "stat /dev/shm/. and /dev/shm/.. (= /dev)" "same same" sh -c \
    '[ "$(stat -c %d:%i /dev/shm/.)" = "$(stat -c %d:%i /dev/shm)" ] && a=same; [ "$(stat -c %d:%i /dev/shm/..)" = "$(stat -c %d:%i /dev)" ] && b=same; echo $a $b'
expect "chmod, chown of /dev/shm leave it sticky and writable by all" "1777 0" sh -c \
    'chmod 700 /dev/shm && chown nobody /dev/shm && stat -c "%a %u" /dev/shm'
expect "python: os.scandir" "['x'] [True]" python3 -c '
import os
entries = list(os.scandir("/dev/shm"))
print([e.name for e in entries], [e.is_file() for e in entries])
os.unlink("/dev/shm/x")'
expect "python: open, listdir, shutil.copy/copy2, rmtree, statvfs, mkdtemp" "['d']
ok" python3 -c '
import os, shutil, tempfile
os.makedirs("/dev/shm/d/e")
with open("/dev/shm/d/e/f", "w") as f:
    f.write("x")
print(os.listdir("/dev/shm"))
shutil.copy("/etc/hostname", "/dev/shm/d/g")
shutil.copy2("/etc/hostname", "/dev/shm/d/g2")
os.truncate("/dev/shm/d/g", 1)
os.utime("/dev/shm/d/g", (1, 2))
assert os.stat("/dev/shm/d/g").st_mtime == 2
shutil.rmtree("/dev/shm/d")
st = os.statvfs("/dev/shm")
assert st.f_bavail * st.f_frsize > 1 << 20, st
t = tempfile.mkdtemp(dir="/dev/shm")
os.rmdir(t)
assert os.listdir("/dev/shm") == []
print("ok")'

echo "# programs: $failed failed"
[ "$failed" -eq 0 ]
