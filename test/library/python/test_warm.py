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
