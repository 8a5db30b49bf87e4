"""Run by layer/test/run.sh in a sandbox whose /tmp is a small ext4 image, with the library preloaded: a killed
runtime's segment, within its grace, is reclaimed by the grow that needs its space. Prints "ok - ..." or
"not ok - ..." lines.
"""
import os
import subprocess
import sys

DEAD = """
import os, _posixshmem
fd = _posixshmem.shm_open("/dead", os.O_CREAT | os.O_RDWR, mode=0o600)
os.ftruncate(fd, 3 << 20)
"""
subprocess.run([sys.executable, "-c", DEAD], start_new_session=True, check=True)
from multiprocessing import shared_memory  # noqa: E402

st = os.statvfs("/tmp")
need = st.f_bavail * st.f_frsize + (2 << 20)
try:
    shm = shared_memory.SharedMemory(create=True, size=need)
    shm.buf[need - 1] = 1
    print("ok - python: a segment of %d KiB past the free space fits: the dead runtime's went" % (need >> 10))
    gone = not os.path.exists("/tmp/shm/dead")
    print("%s - python: the dead runtime's segment is gone" % ("ok" if gone else "not ok"))
    shm.close()
    shm.unlink()
except OSError as e:
    print("not ok - python: a segment past the free space: %s" % e)
