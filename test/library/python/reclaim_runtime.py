"""A stand-in for a Lambda runtime, run by test_reclaim.py as a process group of its own (as Lambda and the
Runtime Interface Emulator start one): it makes shared objects in one of several ways, prints
"ready <json>" with the names it made in /dev/shm, then answers commands on stdin until it is killed.

    python reclaim_runtime.py pool|handoff|exec START_METHOD
"""
import json
import multiprocessing
import os
import subprocess
import sys
import time
from multiprocessing import resource_tracker, shared_memory

PAYLOAD = b"still here"


def square(x):
    return x * x


def slow_square(x):
    time.sleep(0.2)
    return x * x


def make_and_hand_over(conn):
    """A worker that creates a segment, hands its name to its parent and exits."""
    shm = shared_memory.SharedMemory(create=True, size=4096)
    shm.buf[:len(PAYLOAD)] = PAYLOAD
    # The parent owns it now.  Under fork this worker started multiprocessing's resource tracker itself, which
    # would unlink the segment as "leaked" as soon as the worker exits.
    resource_tracker.unregister(shm._name, "shared_memory")
    conn.send(shm.name)
    shm.close()


def listing():
    return set(os.listdir("/dev/shm"))


def ready(made):
    print("ready " + json.dumps(sorted(made)), flush=True)


def serve(handlers):
    for line in sys.stdin:
        reply = handlers[line.strip()]()
        print(reply, flush=True)


def pool(ctx):
    before = listing()
    workers = ctx.Pool(2)
    shm = shared_memory.SharedMemory(create=True, size=1 << 20)
    shm.buf[:len(PAYLOAD)] = PAYLOAD
    assert workers.map(square, range(10)) == [x * x for x in range(10)]
    ready(listing() - before)

    def work():
        ok = workers.map(square, range(100)) == [x * x for x in range(100)]
        return "ok" if ok and bytes(shm.buf[:len(PAYLOAD)]) == PAYLOAD else "broken"

    def slow():
        workers.map(slow_square, range(40), chunksize=1)
        return "done"

    serve({"map": work, "slowmap": slow})


def handoff(ctx):
    # This process touches no shared memory before its worker has made a segment and exited.
    before = listing()
    parent, child = ctx.Pipe()
    worker = ctx.Process(target=make_and_hand_over, args=(child,))
    worker.start()
    name = parent.recv()
    worker.join()
    ready(listing() - before)

    kept = []

    def attach_and_keep():
        shm = shared_memory.SharedMemory(name=name)
        kept.append(shm)
        return "ok" if bytes(shm.buf[:len(PAYLOAD)]) == PAYLOAD else "broken"

    serve({"attach-and-keep": attach_and_keep})


def exec_program(ctx):
    # The segment outlives this process; the group lives on in cat, which never uses shared memory.
    before = listing()
    shm = shared_memory.SharedMemory(create=True, size=4096)
    # Left to the reclaim, not to multiprocessing's resource tracker when this process exits.
    resource_tracker.unregister(shm._name, "shared_memory")
    subprocess.Popen(["/bin/sh", "-c", "exec cat"])
    ready(listing() - before)
    os._exit(0)


if __name__ == "__main__":
    mode, method = sys.argv[1:3]
    {"pool": pool, "handoff": handoff, "exec": exec_program}[mode](multiprocessing.get_context(method))
