"""Pools configured their own way, and ProcessPoolExecutor: queues and worker bookkeeping on named semaphores."""
import concurrent.futures

import pytest

from conftest import TIMEOUT
from workers import fail_on, getpid, greeting, set_greeting, square


def test_initializer(ctx):
    with ctx.Pool(2, initializer=set_greeting, initargs=("hi",)) as pool:
        assert pool.map(greeting, range(4)) == ["hi"] * 4


def test_maxtasksperchild(ctx):
    with ctx.Pool(1, maxtasksperchild=1) as pool:
        pids = [pool.apply_async(getpid, (i,)).get(TIMEOUT) for i in range(3)]
    # Each worker retires after one task, so every task ran in a fresh process.
    assert len(set(pids)) == 3


def test_process_pool_executor(ctx):
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as executor:
        assert list(executor.map(square, range(20), chunksize=3)) == [i * i for i in range(20)]
        futures = [executor.submit(fail_on, i, 2) for i in range(4)]
        assert futures[0].result(TIMEOUT) == 0
        with pytest.raises(ValueError, match="bad input 2"):
            futures[2].result(TIMEOUT)
        done, not_done = concurrent.futures.wait(futures, timeout=TIMEOUT)
        assert not not_done
