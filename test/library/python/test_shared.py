"""Shared state: ctypes objects on multiprocessing's heap (an arena file in /dev/shm), POSIX shared memory
(shm_open) and managers."""
from multiprocessing import managers, shared_memory

import pytest

from conftest import TIMEOUT
from workers import (
    add_to_value, create_shared_memory, edit_manager_objects, edit_shareable_list, fill_array, finish, poke_last,
    set_raw,
    start, write_shared_memory,
)


def test_value_with_lock(ctx):
    value = ctx.Value("i", 0)
    procs = [start(ctx, add_to_value, value, 200) for _ in range(2)]
    finish(*procs)
    assert value.value == 400


def test_array(ctx):
    array = ctx.Array("d", 10)
    finish(start(ctx, fill_array, array, 1.5))
    assert array[:] == [i * 1.5 for i in range(10)]


def test_raw_value_and_raw_array(ctx):
    raw_value, raw_array = ctx.RawValue("l", 0), ctx.RawArray("i", 5)
    finish(start(ctx, set_raw, raw_value, raw_array))
    assert raw_value.value == 4242
    assert raw_array[:] == [100, 101, 102, 103, 104]


def test_heap_spans_several_arenas(ctx):
    # Bigger than the heap's first arena, so another arena file gets created, mapped and passed on.
    small = ctx.RawArray("i", 5)
    big = ctx.RawArray("b", 8 << 20)
    finish(start(ctx, poke_last, small, 11), start(ctx, poke_last, big, 7))
    assert small[-1] == 11 and big[-1] == 7


def test_shared_memory_written_by_child(ctx):
    shm = shared_memory.SharedMemory(create=True, size=4096)
    try:
        finish(start(ctx, write_shared_memory, shm.name, b"written by the child"))
        assert bytes(shm.buf[:20]) == b"written by the child"
    finally:
        shm.close()
        shm.unlink()
    with pytest.raises(FileNotFoundError):
        shared_memory.SharedMemory(name=shm.name)


def test_shared_memory_created_by_child(ctx):
    parent, child = ctx.Pipe()
    proc = start(ctx, create_shared_memory, child, b"made in the child")
    assert parent.poll(TIMEOUT)
    shm = shared_memory.SharedMemory(name=parent.recv())
    try:
        assert bytes(shm.buf[:17]) == b"made in the child"
    finally:
        parent.send("read it")
        finish(proc)
        shm.close()
        shm.unlink()


SHAREABLE = [1, 2.5, "abc", b"xy", None, True]
EDITED = [42, 2.5, "xyz", b"zz", None, True]


def test_shareable_list(ctx):
    sl = shared_memory.ShareableList(SHAREABLE)
    try:
        finish(start(ctx, edit_shareable_list, sl.shm.name))
        assert list(sl) == EDITED
    finally:
        sl.shm.close()
        sl.shm.unlink()


def test_shared_memory_manager(ctx):
    with managers.SharedMemoryManager(ctx=ctx) as smm:
        shm = smm.SharedMemory(64)
        sl = smm.ShareableList(SHAREABLE)
        finish(start(ctx, write_shared_memory, shm.name, b"via the manager"),
               start(ctx, edit_shareable_list, sl.shm.name))
        assert bytes(shm.buf[:15]) == b"via the manager"
        assert list(sl) == EDITED
        names = [shm.name, sl.shm.name]
        shm.close()
        sl.shm.close()
    # The manager unlinks its segments when it shuts down.
    for name in names:
        with pytest.raises(FileNotFoundError):
            shared_memory.SharedMemory(name=name)


def test_manager(ctx):
    with ctx.Manager() as manager:
        shared_dict, shared_list, queue = manager.dict(), manager.list(), manager.Queue()
        lock = manager.Lock()
        proc = start(ctx, edit_manager_objects, shared_dict, shared_list, queue)
        assert queue.get(timeout=TIMEOUT) == "hello"
        finish(proc)
        assert shared_dict["child"] == proc.pid
        assert list(shared_list) == ["from child"]
        assert lock.acquire(timeout=TIMEOUT)
        lock.release()
