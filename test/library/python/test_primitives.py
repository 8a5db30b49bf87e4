"""Every synchronisation primitive and queue, shared between a parent and its children (named semaphores)."""
import threading

from conftest import TIMEOUT
from workers import (
    consume_joinable, expect, finish, hold_lock, hold_rlock, overrelease, put_big, put_items, square_items, start,
    take_semaphore, wait_barrier, wait_condition, wait_event,
)


def test_lock(ctx):
    lock = ctx.Lock()
    parent, child = ctx.Pipe()
    proc = start(ctx, hold_lock, lock, child)
    expect(parent, "held")
    assert not lock.acquire(False)
    parent.send("release")
    expect(parent, "released")
    assert lock.acquire(timeout=TIMEOUT)
    lock.release()
    finish(proc)


def test_rlock(ctx):
    rlock = ctx.RLock()
    parent, child = ctx.Pipe()
    proc = start(ctx, hold_rlock, rlock, child)
    expect(parent, "held twice")
    assert not rlock.acquire(False)
    parent.send("release once")
    expect(parent, "held once")
    assert not rlock.acquire(False)
    parent.send("release again")
    expect(parent, "released")
    assert rlock.acquire(timeout=TIMEOUT)
    assert rlock.acquire(timeout=TIMEOUT)
    rlock.release()
    rlock.release()
    finish(proc)


def test_semaphore(ctx):
    sem = ctx.Semaphore(3)
    parent, child = ctx.Pipe()
    proc = start(ctx, take_semaphore, sem, 2, child)
    assert parent.poll(TIMEOUT)
    assert parent.recv() == 1
    assert sem.get_value() == 1
    assert sem.acquire(False)
    assert not sem.acquire(False)
    parent.send("release one")
    expect(parent, "released")
    assert sem.acquire(timeout=TIMEOUT)
    assert sem.get_value() == 0
    finish(proc)


def test_bounded_semaphore(ctx):
    bsem = ctx.BoundedSemaphore(1)
    parent, child = ctx.Pipe()
    proc = start(ctx, overrelease, bsem, child)
    expect(parent, "ValueError")
    assert bsem.get_value() == 1
    finish(proc)


def test_condition(ctx):
    cond = ctx.Condition()
    parent, child = ctx.Pipe()
    proc = start(ctx, wait_condition, cond, child)
    expect(parent, "waiting")
    # The child sent "waiting" while holding the lock, so taking it here means the child is inside wait().
    with cond:
        cond.notify()
    expect(parent, True)
    finish(proc)


def test_event(ctx):
    event = ctx.Event()
    parent, child = ctx.Pipe()
    proc = start(ctx, wait_event, event, child)
    expect(parent, False)
    event.set()
    parent.send("set it")
    expect(parent, True)
    finish(proc)
    assert event.is_set()
    event.clear()
    assert not event.wait(0.01)


def test_barrier(ctx):
    barrier = ctx.Barrier(3)
    pipes = [ctx.Pipe() for _ in range(2)]
    procs = [start(ctx, wait_barrier, barrier, child) for _, child in pipes]
    mine = barrier.wait(TIMEOUT)
    theirs = []
    for parent, _ in pipes:
        assert parent.poll(TIMEOUT)
        theirs.append(parent.recv())
    assert sorted(theirs + [mine]) == [0, 1, 2]
    finish(*procs)


def test_queue(ctx):
    queue = ctx.Queue()
    procs = [start(ctx, put_items, queue, first, 50) for first in (0, 50)]
    got = sorted(queue.get(timeout=TIMEOUT) for _ in range(100))
    assert got == list(range(100))
    # More than a pipe holds: the child's feeder thread must keep writing while the parent reads.
    big = start(ctx, put_big, queue, 1 << 20)
    assert queue.get(timeout=TIMEOUT) == b"x" * (1 << 20)
    finish(*procs + [big])
    assert queue.empty()


def test_simple_queue(ctx):
    inbox, outbox = ctx.SimpleQueue(), ctx.SimpleQueue()
    procs = [start(ctx, square_items, inbox, outbox) for _ in range(2)]
    for i in range(20):
        inbox.put(i)
    for _ in procs:
        inbox.put(None)
    assert sorted(outbox.get() for _ in range(20)) == [i * i for i in range(20)]
    finish(*procs)
    assert outbox.empty()


def test_joinable_queue(ctx):
    queue, results = ctx.JoinableQueue(), ctx.Queue()
    proc = start(ctx, consume_joinable, queue, results)
    for i in range(10):
        queue.put(i)
    queue.put(None)
    # join() has no timeout of its own.
    joiner = threading.Thread(target=queue.join, daemon=True)
    joiner.start()
    joiner.join(TIMEOUT)
    assert not joiner.is_alive(), "JoinableQueue.join() did not return"
    assert sorted(results.get(timeout=TIMEOUT) for _ in range(10)) == list(range(10))
    finish(proc)
