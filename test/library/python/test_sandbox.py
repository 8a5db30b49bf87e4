"""The sandbox is faithful (multiprocessing breaks there without the library, exactly as on Lambda) and the
library's virtual /dev/shm answers the path calls that programs make on it."""
import errno
import os
import subprocess
import sys
import uuid

import pytest

from conftest import LIBRARY, TIMEOUT, glibc_version, mounts

PROBE = r"""
import multiprocessing
from multiprocessing import shared_memory
for what, make in [
    ("Lock", multiprocessing.Lock),
    ("RawValue", lambda: multiprocessing.RawValue("i")),
    ("SharedMemory", lambda: shared_memory.SharedMemory(create=True, size=16)),
]:
    try:
        made = make()
    except OSError as e:
        print(what, type(e).__name__, e.errno)
    else:
        print(what, "ok")
        if what == "SharedMemory":
            made.close()
            made.unlink()
"""


def probe(env):
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, stdout=subprocess.PIPE, timeout=TIMEOUT, check=True)
    return out.stdout.decode().splitlines()


def test_without_library_multiprocessing_fails_as_on_lambda():
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    if glibc_version() >= (2, 34):
        # AL2023 runtimes: glibc looks for /dev/shm only, which is missing.
        sem = shm = "FileNotFoundError %d" % errno.ENOENT
    elif any(fstype == "tmpfs" for _, fstype in mounts()):
        # AL2 runtimes where a tmpfs this user cannot write is mounted (conftest refuses a writable one):
        # glibc adopts it as its shm directory and creating a file there is refused (Pyomo/pyomo#3977).
        sem = shm = "PermissionError %d" % errno.EACCES
    else:
        # AL2 runtimes: glibc finds no shm file system at all.
        sem = shm = "OSError %d" % errno.ENOSYS
    # multiprocessing.heap calls os.statvfs('/dev/shm') on every glibc.
    heap = "FileNotFoundError %d" % errno.ENOENT
    assert probe(env) == ["Lock " + sem, "RawValue " + heap, "SharedMemory " + shm]


def test_with_library_the_same_calls_work():
    assert probe(dict(os.environ)) == ["Lock ok", "RawValue ok", "SharedMemory ok"]


def test_plain_programs_run_with_the_library():
    out = subprocess.run(["/bin/sh", "-c", "echo ok | cat && ls /"], stdout=subprocess.PIPE, timeout=TIMEOUT,
                         check=True)
    assert out.stdout.decode().startswith("ok\n")
    with open("/proc/self/maps") as f:
        assert LIBRARY in f.read()


@pytest.fixture
def redirect_dir():
    return os.environ.get("SHM_REDIRECT_DIR", "/tmp/shm")


def test_dev_shm_path_calls(redirect_dir):
    st = os.statvfs("/dev/shm")
    assert st.f_bsize > 0 and st.f_bavail > 0
    assert os.path.isdir("/dev/shm")
    name = "clm-test-%s" % uuid.uuid4().hex
    path = "/dev/shm/" + name
    with open(path, "w") as f:
        f.write("hello")
    try:
        assert name in os.listdir("/dev/shm")
        assert os.stat(path).st_size == 5
        assert os.access(path, os.R_OK | os.W_OK)
        with open(path) as f:
            assert f.read() == "hello"
        # It really lives in the redirect directory, under the same name.
        with open(os.path.join(redirect_dir, name)) as f:
            assert f.read() == "hello"
        os.rename(path, path + ".renamed")
        assert os.path.exists(path + ".renamed") and not os.path.exists(path)
        path += ".renamed"
    finally:
        os.unlink(path)
    assert not os.path.exists(path)
    with pytest.raises(FileNotFoundError):
        os.stat(path)


def test_dev_shm_directories(redirect_dir):
    sub = "/dev/shm/clm-dir-%s" % uuid.uuid4().hex
    os.mkdir(sub)
    try:
        assert os.path.isdir(sub)
        assert os.path.isdir(os.path.join(redirect_dir, os.path.basename(sub)))
        assert os.listdir(sub) == []
    finally:
        os.rmdir(sub)
    assert not os.path.exists(sub)


def test_shared_memory_appears_in_dev_shm():
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(create=True, size=8192)
    try:
        path = "/dev/shm/" + shm.name.lstrip("/")
        assert os.path.exists(path)
        assert os.stat(path).st_size == 8192
    finally:
        shm.close()
        shm.unlink()
    assert not os.path.exists(path)


def test_paths_outside_dev_shm_are_untouched(redirect_dir, tmp_path):
    # Names that merely start like the virtual directory are not rewritten: their would-be redirected
    # counterparts exist, the names themselves do not.
    for fake, real in (("/dev/shmx", redirect_dir + "x"), ("/dev/sh", redirect_dir[:-1])):
        with open(real, "w"):
            pass
        try:
            assert not os.path.exists(fake)
        finally:
            os.unlink(real)
    target = tmp_path / "plain"
    target.write_text("x")
    assert target.read_text() == "x"
