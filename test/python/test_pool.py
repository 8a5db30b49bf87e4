"""Pool and ProcessPoolExecutor: their task and result queues and worker bookkeeping rest on named semaphores."""
import concurrent.futures
import multiprocessing
import threading

import pytest

from conftest import START_METHODS, TIMEOUT
from workers import fail_on, getpid, greeting, multiply, set_greeting, slow_identity, square


# Starting workers is the slow part under spawn and forkserver (and under emulation): one pool per start method
# serves every test that does not need a pool configured its own way.
@pytest.fixture(scope="module", params=START_METHODS)
def pool(request):
    with multiprocessing.get_context(request.param).Pool(2) as pool:
        yield pool


def test_map_with_chunksize(pool):
    assert pool.map(square, range(50), chunksize=7) == [i * i for i in range(50)]


def test_map_async(pool):
    assert pool.map_async(square, range(10)).get(TIMEOUT) == [i * i for i in range(10)]


def test_imap(pool):
    assert list(pool.imap(slow_identity, range(30))) == list(range(30))


def test_imap_unordered_with_chunksize(pool):
    assert sorted(pool.imap_unordered(slow_identity, range(30), chunksize=4)) == list(range(30))


def test_starmap(pool):
    assert pool.starmap(multiply, [(i, i + 1) for i in range(20)]) == [i * (i + 1) for i in range(20)]


def test_apply_async_callback(pool):
    done = threading.Event()
    got = []

    def callback(result):
        got.append(result)
        done.set()

    result = pool.apply_async(square, (12,), callback=callback)
    assert result.get(TIMEOUT) == 144
    assert done.wait(TIMEOUT)
    assert got == [144]


def test_apply_async_error_callback(pool):
    done = threading.Event()
    errors = []

    def error_callback(error):
        errors.append(error)
        done.set()

    result = pool.apply_async(fail_on, (3, 3), error_callback=error_callback)
    with pytest.raises(ValueError, match="bad input 3"):
        result.get(TIMEOUT)
    assert done.wait(TIMEOUT)
    assert isinstance(errors[0], ValueError)


def test_starmap_error(pool):
    with pytest.raises(ValueError, match="bad input 5"):
        pool.starmap(fail_on, [(i, 5) for i in range(10)])


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
