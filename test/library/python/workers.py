"""Code that runs in child processes. It lives in a plain module so that spawn and forkserver children, which
import their target by name, find it."""
import os
import time

from conftest import TIMEOUT


def start(ctx, target, *args):
    proc = ctx.Process(target=target, args=args)
    proc.start()
    return proc


def finish(*procs):
    for proc in procs:
        proc.join(TIMEOUT)
        if proc.is_alive():
            proc.kill()
            proc.join()
            raise AssertionError("%s did not finish within %s s" % (proc.name, TIMEOUT))
        assert proc.exitcode == 0, "%s exited with %s" % (proc.name, proc.exitcode)


def expect(conn, message):
    assert conn.poll(TIMEOUT), "no %r from the child within %s s" % (message, TIMEOUT)
    got = conn.recv()
    assert got == message, got


# Each holder below takes the primitive, tells the parent through a pipe (which uses no semaphore) what state
# it is in, and waits for the parent's go-ahead before moving on, so every check in the parent is race-free.

def hold_lock(lock, conn):
    assert lock.acquire(timeout=TIMEOUT)
    conn.send("held")
    expect(conn, "release")
    lock.release()
    conn.send("released")


def hold_rlock(rlock, conn):
    assert rlock.acquire(timeout=TIMEOUT)
    assert rlock.acquire(timeout=TIMEOUT)
    conn.send("held twice")
    expect(conn, "release once")
    rlock.release()
    conn.send("held once")
    expect(conn, "release again")
    rlock.release()
    conn.send("released")


def take_semaphore(sem, count, conn):
    for _ in range(count):
        assert sem.acquire(timeout=TIMEOUT)
    conn.send(sem.get_value())
    expect(conn, "release one")
    sem.release()
    conn.send("released")


def overrelease(bsem, conn):
    assert bsem.acquire(timeout=TIMEOUT)
    bsem.release()
    try:
        bsem.release()
    except ValueError:
        conn.send("ValueError")
    else:
        conn.send("no error")


def wait_condition(cond, conn):
    with cond:
        conn.send("waiting")
        conn.send(cond.wait(TIMEOUT))


def wait_event(event, conn):
    conn.send(event.wait(0.05))
    expect(conn, "set it")
    conn.send(event.wait(TIMEOUT))


def wait_barrier(barrier, conn):
    conn.send(barrier.wait(TIMEOUT))


def put_items(queue, first, count):
    for i in range(first, first + count):
        queue.put(i)


def put_big(queue, size):
    queue.put(b"x" * size)


def square_items(inbox, outbox):
    while True:
        item = inbox.get()
        if item is None:
            break
        outbox.put(item * item)


def consume_joinable(queue, results):
    while True:
        item = queue.get()
        if item is not None:
            results.put(item)
        queue.task_done()
        if item is None:
            break


def add_to_value(value, times):
    for _ in range(times):
        with value.get_lock():
            value.value += 1


def fill_array(array, factor):
    for i in range(len(array)):
        array[i] = i * factor


def set_raw(raw_value, raw_array):
    raw_value.value = 4242
    raw_array[:] = list(range(100, 100 + len(raw_array)))


def poke_last(array, value):
    array[-1] = value


def write_shared_memory(name, data):
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(name=name)
    shm.buf[: len(data)] = data
    shm.close()


def create_shared_memory(conn, data):
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(create=True, size=len(data))
    shm.buf[: len(data)] = data
    conn.send(shm.name)
    expect(conn, "read it")
    shm.close()


def edit_shareable_list(name):
    from multiprocessing import shared_memory

    sl = shared_memory.ShareableList(name=name)
    sl[0] = sl[0] + 41
    sl[2] = "xyz"
    sl[3] = b"zz"
    sl.shm.close()


def edit_manager_objects(shared_dict, shared_list, queue):
    shared_dict["child"] = os.getpid()
    shared_list.append("from child")
    queue.put("hello")


# Pool and executor tasks.

def square(x):
    return x * x


def multiply(a, b):
    return a * b


def fail_on(x, bad):
    if x == bad:
        raise ValueError("bad input %d" % x)
    return x


def slow_identity(x):
    # Finishing out of order is what imap_unordered must cope with.
    time.sleep(0.001 * (x % 3))
    return x


_greeting = None


def set_greeting(greeting):
    global _greeting
    _greeting = greeting


def greeting(_):
    return _greeting


def getpid(_):
    return os.getpid()
