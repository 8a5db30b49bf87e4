"""A warm Lambda runtime is one long-lived process: a handler that empties /tmp between invocations removes the
redirect directory under it, and the next invocation's Lock, SharedMemory and Pool must still work."""
import os
import subprocess
import sys

import pytest

from conftest import START_METHODS, TIMEOUT

HANDLER = r"""
import multiprocessing, os, shutil, sys
from multiprocessing import shared_memory

def square(x):
    return x * x

def invoke(ctx):
    lock = ctx.Lock()
    with lock:
        pass
    shm = shared_memory.SharedMemory(create=True, size=4096)
    shm.buf[0] = 7
    shm.close()
    shm.unlink()
    with ctx.Pool(2) as pool:
        assert pool.map(square, range(20)) == [x * x for x in range(20)]

if __name__ == "__main__":
    ctx = multiprocessing.get_context(sys.argv[2])
    scratch = sys.argv[1]
    for _ in range(3):
        invoke(ctx)
        # What a handler cleaning its /tmp does: the redirect directory goes with everything else.
        for entry in os.listdir(scratch):
            shutil.rmtree(os.path.join(scratch, entry))
        assert not os.path.exists(os.environ["SHM_REDIRECT_DIR"])
    print("3 invocations")
"""


@pytest.mark.parametrize("method", START_METHODS)
def test_warm_invocations_after_tmp_is_emptied(tmp_path, method):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    script = tmp_path / "handler.py"
    script.write_text(HANDLER)
    env = dict(os.environ, SHM_REDIRECT_DIR=str(scratch / "shm"))
    out = subprocess.run([sys.executable, str(script), str(scratch), method], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    assert out.stdout.decode().split("\n")[-2] == "3 invocations"


CLOSES_ALL = r"""
import os, sys
import _multiprocessing, _posixshmem

# The calls under SharedMemory and Lock, without the resource tracker, whose pipe the closing would cut (it then
# unlinks what it tracked).
scratch = sys.argv[1]
name = "/closes-all-%d" % os.getpid()
fd = _posixshmem.shm_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
os.write(fd, b"hello")
os.close(fd)
SEMAPHORE = 1
sem = _multiprocessing.SemLock(SEMAPHORE, 1, 1, name, False)


def library_number():
    for n in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + n) == os.environ["SHM_REDIRECT_DIR"]:
                return int(n)
        except OSError:
            pass
    return -1


def found_by_name(how):
    fd = _posixshmem.shm_open(name, os.O_RDONLY, 0)
    assert os.pread(fd, 5, 0) == b"hello", how
    os.close(fd)
    other = _multiprocessing.SemLock._rebuild(sem.handle, sem.kind, sem.maxvalue, name)
    assert other.acquire(False), "%s: the semaphore opened by name is taken" % how
    assert not sem.acquire(False), "%s: the semaphore opened by name is another one" % how
    other.release()
    assert library_number() >= 0, how


# A daemon's start: every descriptor above stderr goes, the library's too, and the program's own directories
# take the numbers back.
os.closerange(3, 1024)
mine = []
for i in range(40):
    path = os.path.join(scratch, "program-%d" % i)
    os.mkdir(path)
    mine.append((path, os.open(path, os.O_RDONLY | os.O_DIRECTORY)))
found_by_name("after closerange")
# The library's number given to a file of the program's, then closed.
with open(os.path.join(scratch, "program-file"), "wb") as f:
    os.dup2(f.fileno(), library_number())
    found_by_name("its number given to a file")
os.close(library_number())
found_by_name("its number closed")
landed = [path for path, _ in mine if os.listdir(path)]
assert not landed, landed
_posixshmem.shm_unlink(name)
_multiprocessing.sem_unlink(name)
print("found by name")
"""


def test_objects_found_by_name_after_every_descriptor_was_closed(tmp_path):
    """Opening an existing name skips the check of the library's directory descriptor: a program that closed it
    and gave its number to a directory of its own must still reach the same objects, and nothing lands there."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    script = tmp_path / "closes_all.py"
    script.write_text(CLOSES_ALL)
    env = dict(os.environ, SHM_REDIRECT_DIR=str(scratch / "shm"))
    out = subprocess.run([sys.executable, str(script), str(scratch)], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    assert out.stdout.decode().split("\n")[-2] == "found by name"
