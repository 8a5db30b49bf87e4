"""What the reclaim must never take, each case in a redirect directory of its own (SHM_REDIRECT_DIR), with no
grace (SHM_REDIRECT_RECLAIM_AFTER=0) unless it says otherwise, so that it judges only what it made, and a dead
runtime's unused objects go at the next new group's first use:

- a lock shared by name: a dead runtime made it, a live one holds it, a new runtime's first sem_open(O_CREAT)
  must find it held, not make a second semaphore of the same name;
- an object a live runtime re-created (O_TRUNC) and re-sized after its maker died, then closed: its maker's
  record governs it, and it stays for the grace;
- group 1: a PID namespace's init leading its group (a container's entrypoint) runs a helper with
  start_new_session=True;
- a creator that daemonizes (fork, parent exits, setsid, non-dumpable; also as another user, and a holder in
  another PID namespace) and keeps the segment mapped;
- a program that flock()s the segment itself (LOCK_EX, LOCK_UN): flock's semantics, and the reclaim keeps it;
- a name re-created (or opened with O_CREAT) by a live runtime right at the reclaim's removal: the reclaimer is
  stopped by ptrace at its unlinkat, the runtime waits, then holds the file the name reaches; also with the
  reclaimer stopped past the kernel's revocation of its lease (as root, fs.lease-break-time 1 s);
- a joblib run killed mid-computation: its memmapping folder goes at the next new group's first use.

Each runtime is keep_runtime.py, started as a process group of its own as Lambda starts one.
"""
import ctypes
import os
import platform
import select
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


def environ(directory, grace="0"):
    return dict(os.environ, SHM_REDIRECT_DIR=directory, PYTHONPATH=HERE, SHM_REDIRECT_RECLAIM_AFTER=grace)


class Runtime:
    def __init__(self, directory, grace="0"):
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "keep_runtime.py")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environ(directory, grace),
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


def first_use_of_a_new_group(directory, grace="0"):
    subprocess.run([sys.executable, "-c", FIRST_USE], start_new_session=True, check=True, timeout=TIMEOUT,
                   env=environ(directory, grace))


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


def test_an_object_re_created_by_a_live_runtime_stays_for_the_grace(directory):
    runtime = Runtime(directory)
    try:
        assert runtime.ask("touch") == "ok"
        dead_runtime_made(directory, "shm-make cache a")
        assert runtime.ask("shm-recreate cache b") == "ok"
        first_use_of_a_new_group(directory, grace="60")
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


@pytest.mark.parametrize("how", ["plain", "uid"])
def test_a_daemon_keeps_the_segment_it_maps(directory, how):
    if how == "uid" and os.geteuid() != 0:
        pytest.skip("another uid needs root")
    os.chmod(os.path.dirname(directory), 0o755)
    runtime = Runtime(directory)
    reply = ""
    try:
        assert runtime.ask("shm-map seg d") == "ok"
        reply = runtime.ask("daemonize " + how)
        assert reply.startswith("ok ")
        runtime.proc.wait(TIMEOUT)  # the parent is gone; the daemon answers on the same pipes
        wait_group_gone(runtime.proc.pid)
        inode = os.stat(os.path.join(directory, "seg")).st_ino
        first_use_of_a_new_group(directory)
        assert os.stat(os.path.join(directory, "seg")).st_ino == inode
        if how == "plain":
            assert runtime.ask("shm-check seg d") == "ok"
    finally:
        if reply.startswith("ok "):
            os.killpg(int(reply[3:]), signal.SIGKILL)
    deadline = time.monotonic() + TIMEOUT
    while os.path.exists(os.path.join(directory, "seg")):
        assert time.monotonic() < deadline, "the daemon is gone, its segment is not"
        first_use_of_a_new_group(directory)


HOLD_IN_NAMESPACE = """
import mmap, os, sys, _posixshmem
fd = _posixshmem.shm_open("/seg", os.O_RDWR, mode=0)
m = mmap.mmap(fd, 4096)
os.close(fd)
print("ready %d" % os.getpid(), flush=True)
sys.stdin.read()
"""


def test_a_holder_in_another_pid_namespace_keeps_the_segment(directory):
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("unshare -p needs root and util-linux")
    dead_runtime_made(directory, "shm-make seg n")
    holder = subprocess.Popen(["unshare", "-p", "-f", "--kill-child", sys.executable, "-c", HOLD_IN_NAMESPACE],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=environ(directory),
                              start_new_session=True, universal_newlines=True)
    try:
        line = holder.stdout.readline()
        if not line.startswith("ready"):
            pytest.skip("no PID namespace here")
        assert line.split() == ["ready", "1"], "the holder is PID 1 of a namespace of its own"
        first_use_of_a_new_group(directory)
        assert os.path.exists(os.path.join(directory, "seg"))
    finally:
        holder.stdin.close()
        holder.wait(TIMEOUT)
    first_use_of_a_new_group(directory)
    assert not os.path.exists(os.path.join(directory, "seg"))


def test_a_program_s_own_flock_is_flock_s_and_keeps_the_segment(directory):
    b, c = Runtime(directory), Runtime(directory)
    try:
        assert b.ask("touch") == "ok" and c.ask("touch") == "ok"
        dead_runtime_made(directory, "shm-make seg f")
        assert b.ask("flock seg ex") == "ok", "LOCK_EX while another runtime has it open"
        assert c.ask("flock seg ex") == "busy", "LOCK_EX|LOCK_NB of another runtime: EWOULDBLOCK"
        assert b.ask("flock-held un") == "ok" and c.ask("flock-held ex") == "ok"
        assert c.ask("flock-held un") == "ok"
        c.end()
        first_use_of_a_new_group(directory)
        assert os.path.exists(os.path.join(directory, "seg")), "B still has it open after its LOCK_UN"
    finally:
        b.end()
        c.end()
    first_use_of_a_new_group(directory)
    assert not os.path.exists(os.path.join(directory, "seg"))


JOBLIB_RUN = """
import numpy as np
from joblib import Parallel, delayed
def slow(a):
    import time
    time.sleep(60)
data = np.ones(4 << 20)  # 32 MiB: memmapped to the workers through /dev/shm
print("started", flush=True)
Parallel(n_jobs=2, max_nbytes="1M", temp_folder="/dev/shm")(delayed(slow)(data) for _ in range(2))
"""


def used_bytes(directory):
    total = 0
    for root, _, files in os.walk(directory):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


def test_a_joblib_run_killed_midway_gives_its_space_back(directory):
    pytest.importorskip("numpy")
    pytest.importorskip("joblib")
    run = subprocess.Popen([sys.executable, "-c", JOBLIB_RUN], stdout=subprocess.PIPE, env=environ(directory),
                           start_new_session=True, universal_newlines=True)
    try:
        assert run.stdout.readline().strip() == "started"
        deadline = time.monotonic() + TIMEOUT
        while used_bytes(directory) < 32 << 20:
            assert time.monotonic() < deadline and run.poll() is None, "joblib never memmapped its data"
            time.sleep(0.1)
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(TIMEOUT)
    wait_group_gone(run.pid)
    held = used_bytes(directory)
    first_use_of_a_new_group(directory)
    assert held >= 32 << 20 and used_bytes(directory) == 0 and os.listdir(directory) == [], os.listdir(directory)


# unlinkat, by machine.
REMOVING = {"x86_64": {263}, "aarch64": {35}}


def traced_first_use(directory, at_stop):
    """A new group's first use (sh testing for a name in /dev/shm) under ptrace; at its first unlinkat, calls
    at_stop before the call goes on. Returns whether it got there."""
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


LEASE_BREAK_TIME = "/proc/sys/fs/lease-break-time"


@pytest.fixture
def lease_break_time():
    """Sets fs.lease-break-time to 1 s for the test (root only)."""
    try:
        with open(LEASE_BREAK_TIME, "r+") as knob:
            was = knob.read()
            knob.seek(0)  # a sysctl takes a write at offset 0 only
            knob.write("1\n")
    except OSError as e:
        pytest.skip("fs.lease-break-time cannot be set here: %s" % e)
    yield
    with open(LEASE_BREAK_TIME, "w") as knob:
        knob.write("45\n" if was.strip() == "1" else was)  # "1": another run of this test's


@pytest.mark.parametrize("command", ["shm-replace", "shm-open"])
def test_a_name_made_again_at_the_removal_is_the_one_held(directory, command):
    """shm-replace: shm_unlink and shm_open(O_CREAT); shm-open: shm_open(O_CREAT) of the name being removed."""
    a_name_made_again_at_the_removal(directory, command, 0.3)


def test_a_reclaimer_stopped_past_its_lease_s_revocation_removes_nothing_held(directory, lease_break_time):
    """The kernel revokes the reclaimer's lease after 1 s: the runtime's open returns, and must still wait for the
    reclaimer stopped for 2.5 s at its unlinkat, then open again."""
    a_name_made_again_at_the_removal(directory, "shm-open", 2.5)


def a_name_made_again_at_the_removal(directory, command, stopped_for):
    if platform.machine() not in REMOVING:
        pytest.skip("ptrace register layout of %s not known here" % platform.machine())
    live = Runtime(directory)
    try:
        assert live.ask("touch") == "ok"
        dead_runtime_made(directory, "shm-make race")
        waited = []

        def race():
            live.proc.stdin.write("%s race\n" % command)
            live.proc.stdin.flush()
            ready, _, _ = select.select([live.proc.stdout], [], [], stopped_for)
            waited.append(not ready)

        assert traced_first_use(directory, race), "the reclaim never tried to remove the dead runtime's object"
        reply = live.proc.stdout.readline().split()
        assert waited == [True], "the live runtime did not wait for the stopped reclaimer"
        assert reply[0] == "ok" and os.stat(os.path.join(directory, "race")).st_ino == int(reply[1])
    finally:
        live.end()
