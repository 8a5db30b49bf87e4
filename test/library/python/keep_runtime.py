"""A stand-in for a Lambda runtime that runs commands read from stdin, one reply line each, for
test_reclaim_keeps.py. test_reclaim_keeps.py starts it as a process group of its own (as Lambda and the Runtime
Interface Emulator start one). Named semaphores are opened through libc (ctypes), as C programs and other runtimes
do: Python's own SemLock only ever creates them exclusively.

    python keep_runtime.py
"""
import ctypes
import mmap
import os
import sys
from multiprocessing import shared_memory

import _posixshmem

libc = ctypes.CDLL(None, use_errno=True)
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
libc.sem_open.restype = ctypes.c_void_p
libc.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]
for name in ("sem_wait", "sem_trywait", "sem_close"):
    getattr(libc, name).argtypes = [ctypes.c_void_p]
SEM_FAILED = ctypes.c_void_p(0).value
held = []


def sem_open(name):
    sem = libc.sem_open(("/" + name).encode(), os.O_CREAT, 0o600, 1)
    if sem in (None, SEM_FAILED, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "sem_open")
    return sem


def touch():
    try:
        shared_memory.SharedMemory(name="clm-keep-none")
    except FileNotFoundError:
        return "ok"
    return "found"


def sem_make(name):
    libc.sem_close(sem_open(name))
    return "ok"


def sem_hold(name):
    sem = sem_open(name)
    held.append(sem)
    return "ok" if libc.sem_wait(sem) == 0 else "error"


def sem_try(name):
    if libc.sem_trywait(sem_open(name)) == 0:
        return "acquired"
    return "busy" if ctypes.get_errno() == 11 else "error"


def shm_make(name, fill="x", keep=False):
    """A sized and written segment, made through shm_open itself: SharedMemory would start multiprocessing's
    resource tracker, a process of its own that keeps this group alive for a while after it exits."""
    fd = _posixshmem.shm_open("/" + name, os.O_CREAT | os.O_EXCL | os.O_RDWR, mode=0o600)
    try:
        os.ftruncate(fd, 4096)
        m = mmap.mmap(fd, 4096)
    finally:
        os.close(fd)
    m[:] = fill.encode() * 4096
    if keep:
        held.append(m)
    else:
        m.close()
    return "ok"


def shm_recreate(name, fill):
    fd = _posixshmem.shm_open("/" + name, os.O_CREAT | os.O_RDWR | os.O_TRUNC, mode=0o600)
    try:
        os.ftruncate(fd, 1 << 20)
        with mmap.mmap(fd, 1 << 20) as m:
            m[:] = fill.encode() * (1 << 20)
    finally:
        os.close(fd)
    return "ok"


def shm_check(name, fill):
    try:
        fd = _posixshmem.shm_open("/" + name, os.O_RDWR, mode=0)
    except FileNotFoundError:
        return "ENOENT"
    try:
        return "ok" if os.pread(fd, 1, 0) == fill.encode() else "changed"
    finally:
        os.close(fd)


def daemonize(how="plain"):
    """fork, the parent exits once the child has called setsid and made itself non-dumpable (its /proc maps
    unreadable to others): the group that made a mapping is dead, the mapping lives on in the child, which goes
    on answering. "uid": the child is then user 65534, which holds the mapping and never opens it again."""
    r, w = os.pipe()
    if os.fork():
        os.close(w)
        os._exit(0 if os.read(r, 1) else 1)
    os.close(r)
    os.setsid()
    libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
    if how == "uid":
        os.setresuid(65534, 65534, 65534)
    os.write(w, b"x")
    os.close(w)
    return "ok %d" % os.getpid()


def shm_replace(name):
    """Unlinks the name and makes it again (or, "open", opens it with O_CREAT); keeps it open; the inode."""
    fd = _posixshmem.shm_open("/" + name, os.O_CREAT | os.O_RDWR, mode=0o600)
    held.append(fd)
    return "ok %d" % os.fstat(fd).st_ino


def shm_unlink_and_make(name):
    try:
        _posixshmem.shm_unlink("/" + name)
    except FileNotFoundError:
        pass  # the reclaim got there first
    return shm_replace(name)


def flock(name, how):
    """fcntl.flock on a descriptor of the segment NAME, kept open."""
    import fcntl
    fd = _posixshmem.shm_open("/" + name, os.O_RDWR, mode=0)
    held.append(fd)
    try:
        fcntl.flock(fd, {"ex": fcntl.LOCK_EX | fcntl.LOCK_NB, "un": fcntl.LOCK_UN}[how])
    except BlockingIOError:
        return "busy"
    return "ok"


def flock_held(how):
    import fcntl
    try:
        fcntl.flock(held[-1], {"ex": fcntl.LOCK_EX | fcntl.LOCK_NB, "un": fcntl.LOCK_UN}[how])
    except BlockingIOError:
        return "busy"
    return "ok"


COMMANDS = {"touch": touch, "sem-make": sem_make, "sem-hold": sem_hold, "sem-try": sem_try,
            "shm-make": shm_make, "shm-map": lambda name, fill: shm_make(name, fill, keep=True),
            "shm-recreate": shm_recreate, "shm-check": shm_check, "daemonize": daemonize,
            "shm-open": shm_replace, "shm-replace": shm_unlink_and_make, "flock": flock, "flock-held": flock_held,
            "exit": lambda: os._exit(0)}

if __name__ == "__main__":
    for line in sys.stdin:
        command, *args = line.split()
        print(COMMANDS[command](*args), flush=True)
