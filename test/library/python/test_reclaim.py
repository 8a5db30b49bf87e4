"""Reclaiming what a killed runtime left in the redirect directory (layer/src/reclaim.c).

Each "runtime" is reclaim_runtime.py started as a process group of its own, as Lambda starts one; a "new group's
first use" is another such process touching shared memory once, with no grace (SHM_REDIRECT_RECLAIM_AFTER=0)
unless the test says otherwise. What a killed group made and nobody uses must be gone after it; what a live group
may still use must never be: a running pool's semaphores and segment, a parallel runtime; a segment a finished
worker handed to its parent by name stays for the grace, and for as long as the parent maps it.
"""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import START_METHODS, TIMEOUT

HERE = os.path.dirname(os.path.abspath(__file__))
FIRST_USE = """
from multiprocessing import shared_memory
try:
    shared_memory.SharedMemory(name="clm-reclaim-none")
except FileNotFoundError:
    pass
"""


class Runtime:
    def __init__(self, mode, method):
        env = dict(os.environ, PYTHONPATH=HERE)
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "reclaim_runtime.py"), mode, method],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                     start_new_session=True, universal_newlines=True)
        line = self.proc.stdout.readline()
        assert line.startswith("ready "), line
        self.objects = json.loads(line[6:])

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def kill(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(TIMEOUT)
        wait_group_dead(self.proc.pid)

    def present(self):
        return [name for name in self.objects if os.path.exists("/dev/shm/" + name)]


def group_members(pgid):
    """States of the processes of group PGID; a zombie leader whose other threads still run counts as running
    ("R"), as the library's liveness check counts it."""
    states = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid:
                states.append(fields[0] if int(fields[17]) <= 1 else "R")
    return states


def wait_group_dead(pgid):
    """SIGKILL is delivered at once but takes a moment to finish each process: wait until only zombies are left
    (Lambda's init and the emulator reap only the runtime itself, so the workers may stay zombies)."""
    deadline = time.monotonic() + TIMEOUT
    while any(state not in "ZX" for state in group_members(pgid)):
        assert time.monotonic() < deadline, "group %d still running after SIGKILL" % pgid
        time.sleep(0.01)


def first_use_of_a_new_group(env=None, grace="0"):
    env = dict(env or os.environ, SHM_REDIRECT_RECLAIM_AFTER=grace)
    subprocess.run([sys.executable, "-c", FIRST_USE], start_new_session=True, check=True, timeout=TIMEOUT,
                   env=env)


@pytest.mark.parametrize("method", START_METHODS)
def test_running_pool_keeps_its_objects_and_loses_them_once_killed(method):
    runtime = Runtime("pool", method)
    # fork: multiprocessing unlinks the pool's semaphores at once; spawn and forkserver keep their names.
    assert runtime.objects and (method == "fork" or any(n.startswith("sem.") for n in runtime.objects))
    first_use_of_a_new_group()
    assert runtime.present() == runtime.objects
    assert runtime.ask("map") == "ok"
    runtime.kill()
    assert runtime.present() == runtime.objects, "nothing runs a reclaim before a new group starts"
    first_use_of_a_new_group()
    assert runtime.present() == []


@pytest.mark.parametrize("method", START_METHODS)
def test_segment_handed_over_by_a_finished_worker_is_kept_for_the_grace_and_while_mapped(method):
    # The parent had not used the library when its worker made the segment and exited: to the reclaim the group
    # is dead (no process of it holds its record), and the grace keeps the segment for the hand-off.
    runtime = Runtime("handoff", method)
    assert len(runtime.objects) == 1
    first_use_of_a_new_group(grace="60")
    assert runtime.present() == runtime.objects
    assert runtime.ask("attach-and-keep") == "ok"
    first_use_of_a_new_group()
    assert runtime.present() == runtime.objects, "the parent maps it"
    runtime.kill()
    first_use_of_a_new_group()
    assert runtime.present() == []


def test_group_living_on_only_in_a_program_without_the_library_keeps_its_objects_for_the_grace():
    runtime = Runtime("exec", "spawn")
    runtime.proc.wait(TIMEOUT)  # the runtime itself is gone; cat runs on in its group
    assert any(state not in "ZX" for state in group_members(runtime.proc.pid))
    first_use_of_a_new_group(grace="60")
    assert runtime.present() == runtime.objects
    first_use_of_a_new_group()
    assert runtime.present() == [], "no process of the group uses the library, and nobody maps them"
    runtime.kill()


@pytest.mark.parametrize("method", START_METHODS)
def test_parallel_runtime_killed_midway_loses_only_its_own(method):
    killed, running = Runtime("pool", method), Runtime("pool", method)
    killed.proc.stdin.write("slowmap\n")
    killed.proc.stdin.flush()
    time.sleep(0.5)  # in the middle of its map
    killed.kill()
    first_use_of_a_new_group()
    assert killed.present() == []
    assert running.present() == running.objects
    assert running.ask("map") == "ok"
    running.kill()


def test_disabled_reclaim_takes_nothing():
    runtime = Runtime("pool", START_METHODS[-1])
    runtime.kill()
    first_use_of_a_new_group(dict(os.environ, SHM_REDIRECT_RECLAIM="0"))
    assert runtime.present() == runtime.objects
    first_use_of_a_new_group()
    assert runtime.present() == []
