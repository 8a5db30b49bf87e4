"""Run by test_reclaim_rule.py in a fresh process (its forks must each be a first use): three new groups reclaim
a dead group's 50 segments while two live runtimes open the same names with O_CREAT, ROUNDS times. Prints
"splits orphans contested": names with two files, opens holding a file no name reaches, and opens that came after
a reclaimer removed the dead group's file.

    python split_stress.py DIRECTORY ROUNDS
"""
import os
import sys
import time

import _posixshmem

NAMES, RECLAIMERS = 50, 3
directory, rounds = sys.argv[1], int(sys.argv[2])


def child(fn):
    pid = os.fork()
    if pid == 0:
        try:
            os.setpgid(0, 0)
            fn()
        finally:
            os._exit(0)
    return pid


def first_use(started=None):
    # Says when it begins, so that the openers start with it: under qemu-user a fork takes long enough that
    # openers sent off beside it would be done before it looks.
    if started is not None:
        os.write(started, b"s")
    try:
        _posixshmem.shm_open("/split-none", os.O_RDONLY, mode=0)
    except FileNotFoundError:
        pass


def dead_group():
    for i in range(NAMES):
        os.close(_posixshmem.shm_open("/split-%d" % i, os.O_CREAT | os.O_RDWR, mode=0o600))


def opener(cmd, out, others):
    def run():
        for fd in others:  # the other opener's ends: it must see EOF when we close ours
            os.close(fd)
        first_use()
        fds = []
        while True:
            c = os.read(cmd, 1)
            if c == b"g":
                # Last name first: a reclaim removes them in the order they were made, so the two meet midway.
                fds = [_posixshmem.shm_open("/split-%d" % i, os.O_CREAT | os.O_RDWR, mode=0o600)
                       for i in reversed(range(NAMES))][::-1]
                os.write(out, (" ".join(str(os.fstat(fd).st_ino) for fd in fds) + "\n").encode())
            elif c == b"r":
                for fd in fds:
                    os.close(fd)
                os.write(out, b"r")
            else:
                return
    return run


def named(i):
    try:
        return os.lstat(os.path.join(directory, "split-%d" % i)).st_ino
    except FileNotFoundError:
        return 0


openers = []
for _ in range(2):
    cmd_r, cmd_w = os.pipe()
    out_r, out_w = os.pipe()
    others = [fd for _, cmd, out in openers for fd in (cmd, out.fileno())] + [cmd_w, out_r]
    pid = child(opener(cmd_r, out_w, others))
    os.close(cmd_r)
    os.close(out_w)
    openers.append((pid, cmd_w, os.fdopen(out_r, "rb", buffering=0)))
started_r, started_w = os.pipe()
splits = orphans = contested = 0
for _ in range(rounds):
    os.waitpid(child(dead_group), 0)
    dead = [named(i) for i in range(NAMES)]
    reclaimers = []
    for k in range(RECLAIMERS):
        reclaimers.append(child(lambda: first_use(started_w)))
        if k == 0:
            os.read(started_r, 1)
            # The openers go once a reclaimer removes its first file: started any sooner, a loaded machine (or
            # qemu-user) often let them finish before the reclaim got there, and the round met no race.
            deadline = time.monotonic() + 5
            while named(0) == dead[0] and time.monotonic() < deadline:
                pass
            for _, cmd, _ in openers:
                os.write(cmd, b"g")
    got = [[int(x) for x in out.readline().split()] for _, _, out in openers]
    for pid in reclaimers:
        os.waitpid(pid, 0)
    os.read(started_r, RECLAIMERS - 1)
    for i in range(NAMES):
        now = named(i)
        splits += got[0][i] != got[1][i]
        orphans += got[0][i] != now or got[1][i] != now
        contested += got[0][i] != dead[i]
    for _, cmd, out in openers:
        os.write(cmd, b"r")
        out.read(1)
    for i in range(NAMES):
        if named(i):  # an orphaned open leaves its name missing: counted above
            os.unlink(os.path.join(directory, "split-%d" % i))
for pid, cmd, _ in openers:
    os.close(cmd)
    os.waitpid(pid, 0)
print(splits, orphans, contested)
