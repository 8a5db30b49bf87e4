"""The image functions' workload: every multiprocessing primitive the issue names, each reported on its own.

Each workload returns {"ok": true, ...} or {"ok": false, "error": ..., "errno": ...}, so one invocation tells
which primitives work and how the others fail (ENOENT where glibc >= 2.34 finds no /dev/shm, ENOSYS where an
older glibc finds no shared memory file system). joblib falls back to running serially when its semaphore
check fails at import, which would look like success: its workload counts only if the work ran in other
processes. {"sleep": SECONDS} sleeps instead (the timeout case).
"""
import concurrent.futures
import multiprocessing
import os
import re
import time
import warnings
from multiprocessing import shared_memory

with warnings.catch_warnings(record=True) as _joblib_import_warnings:
    warnings.simplefilter('always')
    import joblib
    import numpy
JOBLIB_WARNINGS = [str(w.message) for w in _joblib_import_warnings if 'serial' in str(w.message)]
INIT_PID = os.getpid()


def _square(x):
    return x * x


def _produce(queue, count):
    for i in range(count):
        queue.put(i * 10)
    queue.put(None)


def _fill(name, size):
    block = shared_memory.SharedMemory(name=name)
    block.buf[:size] = bytes(range(size))
    block.close()


def _chunk_sum(array, start, stop):
    return float(array[start:stop].sum()), os.getpid()


def pool():
    with multiprocessing.Pool(2) as p:
        result = p.map(_square, range(10))
    assert result == [x * x for x in range(10)], result
    return {}


def queue():
    q = multiprocessing.Queue()
    child = multiprocessing.Process(target=_produce, args=(q, 5))
    child.start()
    items = list(iter(q.get, None))
    child.join()
    assert items == [0, 10, 20, 30, 40] and child.exitcode == 0, (items, child.exitcode)
    return {}


def shared_memory_block():
    block = shared_memory.SharedMemory(create=True, size=64)
    try:
        child = multiprocessing.Process(target=_fill, args=(block.name, 64))
        child.start()
        child.join()
        assert bytes(block.buf[:64]) == bytes(range(64)), 'the child wrote nothing'
        return {'name': block.name}
    finally:
        block.close()
        block.unlink()


def process_pool():
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as executor:
        result = list(executor.map(_square, range(10)))
    assert result == [x * x for x in range(10)], result
    return {}


def joblib_loky_memmap():
    if JOBLIB_WARNINGS:
        raise RuntimeError('joblib runs serially: ' + ' | '.join(JOBLIB_WARNINGS))
    n = 1 << 20
    path = '/tmp/image-workload-%d.dat' % os.getpid()
    array = numpy.memmap(path, dtype='float64', mode='w+', shape=(n,))
    try:
        array[:] = numpy.arange(n, dtype='float64')
        array.flush()
        shared = numpy.memmap(path, dtype='float64', mode='r', shape=(n,))
        step = n // 4
        parts = joblib.Parallel(n_jobs=2, backend='loky')(
            joblib.delayed(_chunk_sum)(shared, i, i + step) for i in range(0, n, step))
        total = sum(s for s, _ in parts)
        workers = {pid for _, pid in parts}
        assert total == float(n) * (n - 1) / 2, total
        assert os.getpid() not in workers, 'joblib ran the work in the handler process'
        return {'workers': len(workers)}
    finally:
        os.unlink(path)


WORKLOADS = {'Pool': pool, 'Queue': queue, 'SharedMemory': shared_memory_block,
             'ProcessPoolExecutor': process_pool, 'joblib-loky-memmap': joblib_loky_memmap}


def _failure(e):
    errno = getattr(e, 'errno', None)
    if errno is None:
        found = re.search(r'\[Errno (\d+)\]', str(e))
        errno = int(found.group(1)) if found else None
    return {'ok': False, 'error': type(e).__name__, 'errno': errno, 'message': str(e)[:300]}


def handler(event, context):
    if 'sleep' in event:
        time.sleep(event['sleep'])
        return {'slept': event['sleep']}
    results = {}
    for name, workload in WORKLOADS.items():
        started = time.monotonic()
        try:
            results[name] = dict(workload(), ok=True)
        except Exception as e:  # each workload's failure is the result, reported per workload
            results[name] = _failure(e)
        results[name]['seconds'] = round(time.monotonic() - started, 3)
    return {'results': results, 'pid': os.getpid(), 'init_pid': INIT_PID, 'uid': os.getuid(),
            'ld_preload': os.environ.get('LD_PRELOAD', ''), 'glibc': os.confstr('CS_GNU_LIBC_VERSION')}
