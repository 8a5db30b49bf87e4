"""Named POSIX objects for the soak's function and its worker: shared memory through Python's own _posixshmem,
named semaphores through ctypes (Python has no named-semaphore API), both resolved the way the runtime's own
calls are, so the preloaded library answers them. A file's identity is (device, inode, generation): an object
that was removed and re-created under the same name counts as vanished, even where the file system gives the
new file the inode number the old one freed (ext4 does at once; the generation differs)."""
import ctypes
import fcntl
import mmap
import os
import time

import _posixshmem

SHM_DIR = os.environ.get('SHM_REDIRECT_DIR', '/tmp/shm')
FS_IOC_GETVERSION = 0x80087601  # _IOR('v', 1, long); ext4 writes an int
LIBC = ctypes.CDLL(None, use_errno=True)


class Timespec(ctypes.Structure):
    _fields_ = [('tv_sec', ctypes.c_long), ('tv_nsec', ctypes.c_long)]


LIBC.sem_open.restype = ctypes.c_void_p
LIBC.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]
for _name in ('sem_post', 'sem_close', 'sem_wait'):
    getattr(LIBC, _name).argtypes = [ctypes.c_void_p]
LIBC.sem_timedwait.argtypes = [ctypes.c_void_p, ctypes.POINTER(Timespec)]
LIBC.sem_unlink.argtypes = [ctypes.c_char_p]


def _fail(what, name):
    err = ctypes.get_errno()
    raise OSError(err, '%s(%s): %s' % (what, name, os.strerror(err)))


def sem_open(name, flags=0, mode=0o600, value=0):
    sem = LIBC.sem_open(name.encode(), flags, mode, value)
    if not sem:
        _fail('sem_open', name)
    return sem


def sem_post(sem):
    if LIBC.sem_post(sem) != 0:
        _fail('sem_post', sem)


def sem_close(sem):
    LIBC.sem_close(sem)


def sem_unlink(name):
    if LIBC.sem_unlink(name.encode()) != 0:
        _fail('sem_unlink', name)


def sem_timedwait(sem, timeout_s):
    """True once taken, False after `timeout_s` (CLOCK_REALTIME, as sem_timedwait measures it)."""
    deadline = time.time() + max(timeout_s, 0)
    ts = Timespec(int(deadline), int((deadline % 1) * 1e9))
    while LIBC.sem_timedwait(sem, ctypes.byref(ts)) != 0:
        err = ctypes.get_errno()
        if err == 110:  # ETIMEDOUT
            return False
        if err != 4:  # EINTR
            _fail('sem_timedwait', sem)
    return True


def identity(fd):
    """(st_dev, st_ino, generation) of an open file."""
    st = os.fstat(fd)
    generation = int.from_bytes(fcntl.ioctl(fd, FS_IOC_GETVERSION, bytes(8))[:4], 'little')
    return (st.st_dev, st.st_ino, generation)


def sem_identity(name):
    """Identity of the semaphore's file; None when its name is gone."""
    try:
        fd = os.open(os.path.join(SHM_DIR, 'sem.' + name.lstrip('/')), os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        return None
    try:
        return identity(fd)
    finally:
        os.close(fd)


def shm_create(name, size):
    fd = _posixshmem.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    try:
        os.ftruncate(fd, size)
        return fd, mmap.mmap(fd, size)
    except BaseException:
        os.close(fd)
        raise


def shm_attach(name):
    """(fd, map, identity) of an existing segment; FileNotFoundError when its name is gone."""
    fd = _posixshmem.shm_open(name, os.O_RDWR, 0)
    try:
        return fd, mmap.mmap(fd, os.fstat(fd).st_size), identity(fd)
    except BaseException:
        os.close(fd)
        raise


def shm_identity(name):
    """Identity of the segment the name opens now; None when it is gone."""
    try:
        fd = _posixshmem.shm_open(name, os.O_RDONLY, 0)
    except FileNotFoundError:
        return None
    try:
        return identity(fd)
    finally:
        os.close(fd)


def shm_unlink(name):
    _posixshmem.shm_unlink(name)
