"""What the reclaim must never take (issue 18), each case in a redirect directory of its own
(SHM_REDIRECT_DIR), so that it judges only what it made:

- a lock shared by name: a dead runtime made it, a live one holds it, a new runtime's first sem_open(O_CREAT)
  must find it held, not make a second semaphore of the same name;
- an object a live runtime re-created (O_TRUNC) and re-sized after its maker died, then closed;
- group 1: a PID namespace's init leading its group (a container's entrypoint) runs a helper with
  start_new_session=True;
- a creator that daemonizes (fork, parent exits, setsid) and keeps the segment mapped;
- a name re-created right at the reclaim's removal: the reclaimer is stopped by ptrace at the system call that
  removes or moves the object away, the name is made again, and the new file must survive.

Each runtime is keep_runtime.py, started as a process group of its own as Lambda starts one.
"""
import ctypes
import os
import platform
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import TIMEOUT

HERE = os.path.dirname(os.path.abspath(__file__))
FIRST_USE = """
from multiprocessing import shared_memory
try:
    shared_memory.SharedMemory(name="clm-keep-none")
except FileNotFoundError:
    pass
"""


@pytest.fixture
def directory(tmp_path):
    """A redirect directory of the test's own; its registry sits beside it."""
    shm = tmp_path / "shm"
    yield str(shm)
    for path in (shm, tmp_path / "shm.reclaim"):
        shutil.rmtree(str(path), ignore_errors=True)


def environ(directory):
    return dict(os.environ, SHM_REDIRECT_DIR=directory, PYTHONPATH=HERE)


class Runtime:
    def __init__(self, directory):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "keep_runtime.py")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environ(directory),
                                     start_new_session=True, universal_newlines=True)

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def end(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(TIMEOUT)


def dead_runtime_made(directory, command):
    runtime = Runtime(directory)
    assert runtime.ask(command) == "ok"
    runtime.proc.stdin.write("exit\n")
    runtime.proc.stdin.flush()
    runtime.proc.wait(TIMEOUT)
    wait_group_gone(runtime.proc.pid)


def wait_group_gone(pgid):
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        assert time.monotonic() < deadline, "group %d still has processes" % pgid
        time.sleep(0.01)


def first_use_of_a_new_group(directory):
    subprocess.run([sys.executable, "-c", FIRST_USE], start_new_session=True, check=True, timeout=TIMEOUT,
                   env=environ(directory))


def test_a_lock_held_by_a_live_runtime_keeps_excluding(directory):
    holder = Runtime(directory)
    newcomer = None
    try:
        assert holder.ask("touch") == "ok"
        dead_runtime_made(directory, "sem-make applock")
        assert holder.ask("sem-hold applock") == "ok"
        before = os.stat(os.path.join(directory, "sem.applock")).st_ino
        newcomer = Runtime(directory)
        assert newcomer.ask("sem-try applock") == "busy"
        assert os.stat(os.path.join(directory, "sem.applock")).st_ino == before
    finally:
        holder.end()
        if newcomer:
            newcomer.end()


def test_an_object_re_created_by_a_live_runtime_is_its_own(directory):
    runtime = Runtime(directory)
    try:
        assert runtime.ask("touch") == "ok"
        dead_runtime_made(directory, "shm-make cache a")
        assert runtime.ask("shm-recreate cache b") == "ok"
        first_use_of_a_new_group(directory)
        assert runtime.ask("shm-check cache b") == "ok"
    finally:
        runtime.end()


# Through shm_open itself: SharedMemory would start multiprocessing's resource tracker, a second process in the
# namespace, and kill(-1, 0) would find that one.
INIT = """
import os, subprocess, sys
import _posixshmem
os.setsid()
assert os.getpgid(0) == 1, os.getpgid(0)
fd = _posixshmem.shm_open("/mine", os.O_CREAT | os.O_RDWR, mode=0o600)
os.ftruncate(fd, 4096)
os.close(fd)
subprocess.run([sys.executable, "-c", sys.argv[1]], start_new_session=True, check=True)
os.close(_posixshmem.shm_open("/mine", os.O_RDWR, mode=0))
print("kept")
"""


def test_group_1_of_a_pid_namespace_is_alive(directory):
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("a new PID namespace needs root and unshare(1)")
    probe = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"], stderr=subprocess.PIPE)
    if probe.returncode != 0:
        pytest.skip("cannot make a PID namespace here: %s" % probe.stderr.decode().strip())
    out = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", sys.executable, "-c", INIT, FIRST_USE],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environ(directory), timeout=TIMEOUT,
                         universal_newlines=True)
    assert out.stdout.strip() == "kept", out.stderr


def test_a_daemon_keeps_the_segment_it_maps(directory):
    runtime = Runtime(directory)
    reply = ""
    try:
        assert runtime.ask("shm-map seg d") == "ok"
        reply = runtime.ask("daemonize")
        assert reply.startswith("ok ")
        runtime.proc.wait(TIMEOUT)  # the parent is gone; the daemon answers on the same pipes
        wait_group_gone(runtime.proc.pid)
        first_use_of_a_new_group(directory)
        assert runtime.ask("shm-check seg d") == "ok"
    finally:
        if reply.startswith("ok "):
            os.killpg(int(reply[3:]), signal.SIGKILL)


# System calls that remove or move a file away, by machine.
REMOVING = {"x86_64": {263, 264, 316}, "aarch64": {35, 276}}


def traced_first_use(directory, at_stop):
    """A new group's first use (sh testing for a name in /dev/shm) under ptrace; at its first system call that
    removes or moves a file, calls at_stop before the call goes on. Returns whether it got there."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    machine = platform.machine()

    def traceme():
        if libc.ptrace(0, 0, None, None) != 0:
            os._exit(125)  # qemu-user has no ptrace

    child = subprocess.Popen(["/bin/sh", "-c", "test -e /dev/shm/clm-keep-none; exit 0"], env=environ(directory),
                             start_new_session=True, preexec_fn=traceme)
    pid = child.pid
    _, status = os.waitpid(pid, 0)  # the exec's SIGTRAP
    if not os.WIFSTOPPED(status):
        child.returncode = 0
        pytest.skip("ptrace does not work here (qemu-user runs the child untraced)")
    libc.ptrace(0x4200, pid, None, ctypes.c_void_p(1 | 0x100000))  # PTRACE_SETOPTIONS: TRACESYSGOOD, EXITKILL
    entering, stopped, sig = True, False, 0
    while True:
        libc.ptrace(24, pid, None, ctypes.c_void_p(sig))  # PTRACE_SYSCALL
        sig = 0
        _, status = os.waitpid(pid, 0)
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            break
        if os.WSTOPSIG(status) == signal.SIGTRAP | 0x80:
            if entering and not stopped and syscall_nr(libc, machine, pid) in REMOVING[machine]:
                stopped = True
                at_stop()
            entering = not entering
        elif os.WSTOPSIG(status) != signal.SIGTRAP:
            sig = os.WSTOPSIG(status)
    child.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else 0
    return stopped


def syscall_nr(libc, machine, pid):
    if machine == "x86_64":
        return libc.ptrace(3, pid, ctypes.c_void_p(15 * 8), None)  # PTRACE_PEEKUSER orig_rax
    regs = (ctypes.c_ulonglong * 34)()
    iov = (ctypes.c_void_p * 2)(ctypes.cast(regs, ctypes.c_void_p), ctypes.sizeof(regs))
    libc.ptrace(0x4204, pid, ctypes.c_void_p(1), iov)  # PTRACE_GETREGSET NT_PRSTATUS
    return regs[8]


def test_a_name_re_created_at_the_removal_survives(directory):
    if platform.machine() not in REMOVING:
        pytest.skip("ptrace register layout of %s not known here" % platform.machine())
    dead_runtime_made(directory, "shm-make race")
    path = os.path.join(directory, "race")
    remade = []

    def remake():
        os.unlink(path)
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        os.write(fd, b"L")
        remade.append((fd, os.fstat(fd).st_ino))

    assert traced_first_use(directory, remake), "the reclaim never tried to remove the dead runtime's object"
    fd, inode = remade[0]
    try:
        assert os.stat(path).st_ino == inode
    finally:
        os.close(fd)
