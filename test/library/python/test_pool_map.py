"""Pool's ways of handing out work, on one pool per start method (its queues rest on named semaphores)."""
import multiprocessing
import threading

import pytest

from conftest import START_METHODS, TIMEOUT
from workers import fail_on, multiply, slow_identity, square


# Starting workers is the slow part under spawn and forkserver (and under emulation): one pool per start method
# serves every test here. Its threads live as long as this module, so tests that fork pools of their own are
# elsewhere (forking a process with threads risks deadlocks, and Python 3.12+ warns about it).
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
