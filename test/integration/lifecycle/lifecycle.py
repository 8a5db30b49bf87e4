"""A function that walks one execution environment through its lifecycle, one action per invocation
(event['action']): warm work on a pool kept in a global, a timeout in the middle of Pool.map holding a
SharedMemory segment, a worker's os._exit, a SIGSEGV in the runtime, an init error, and the actions the tests
of two runtimes sharing one /tmp need. Every answer reports the runtime and what /tmp/shm holds."""
import ctypes
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import shared_memory

SHM_DIR = os.environ.get('SHM_REDIRECT_DIR', '/tmp/shm')
FAIL_NEXT_INIT = '/tmp/lifecycle-fail-next-init'

if os.path.exists(FAIL_NEXT_INIT):
    os.unlink(FAIL_NEXT_INIT)
    raise RuntimeError('this init fails, as the previous invocation asked')

RUNTIME = {'pid': os.getpid(), 'invocations': 0}
POOL = None
HELD = []  # segments kept until the runtime dies


def _square(x):
    return x * x


def _sleep(_):
    time.sleep(3600)


def _exit(_):
    os._exit(7)


WORKER_LOCK = None


def _take_lock(lock):
    global WORKER_LOCK
    WORKER_LOCK = lock


def _checksum(name):
    """In a spawned worker, started after another runtime's reclaim: it got the lock by its semaphore's name
    (the pool's initializer), and opens the segment by name."""
    seg = shared_memory.SharedMemory(name=name)
    try:
        with WORKER_LOCK:
            return sum(seg.buf[::4096])
    finally:
        seg.close()


def _pool():
    global POOL
    if POOL is None:
        POOL = multiprocessing.Pool(2)
    return POOL


def _hold(mib):
    seg = shared_memory.SharedMemory(create=True, size=mib << 20)
    seg.buf[::4096] = b'\x01' * len(range(0, mib << 20, 4096))
    HELD.append(seg)
    return seg


def _flag(kind, token):
    return '/tmp/lifecycle-%s-%s' % (kind, token)


def _wait_for(path, limit_s):
    deadline = time.monotonic() + limit_s
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError('%s did not appear within %ss' % (path, limit_s))
        time.sleep(0.02)


def shm_usage():
    names, allocated = [], 0
    if os.path.isdir(SHM_DIR):
        for entry in os.scandir(SHM_DIR):
            names.append(entry.name)
            allocated += entry.stat(follow_symlinks=False).st_blocks * 512
    vfs = os.statvfs('/tmp')
    return {'names': sorted(names), 'bytes': allocated, 'tmp_free': vfs.f_bavail * vfs.f_frsize}


def handler(event, context):
    RUNTIME['invocations'] += 1
    action = event.get('action', 'work')
    report = {'runtime_pid': RUNTIME['pid'], 'invocations': RUNTIME['invocations'], 'action': action,
              'shm_before': shm_usage()}
    if action == 'work':
        pool = _pool()
        report['sum'] = sum(pool.map(_square, range(1000)))
        report['pool_workers'] = sorted(p.pid for p in pool._pool)
    elif action == 'timeout_in_pool_map':
        _hold(event.get('hold_mib', 60))
        _pool().map(_sleep, range(4))
    elif action == 'worker_exit':
        with ProcessPoolExecutor(2) as executor:
            list(executor.map(_exit, range(2)))
    elif action == 'segfault':
        ctypes.string_at(0)
    elif action == 'fail_next_init':
        open(FAIL_NEXT_INIT, 'w').close()
        ctypes.string_at(0)
    elif action == 'need':
        seg = shared_memory.SharedMemory(create=True, size=event['mib'] << 20)
        try:
            seg.buf[::4096] = b'\x02' * len(range(0, event['mib'] << 20, 4096))
            report['need_shm'] = shm_usage()
        finally:
            seg.close()
            seg.unlink()
    elif action == 'hold_and_wait':
        # Holds a segment and a named semaphore (a spawn context's Lock keeps its name for the children), says
        # so, waits for the go flag, then hands both by name to a spawn pool whose workers start only now,
        # after whatever the other runtime did meanwhile.
        seg = _hold(event.get('hold_mib', 1))
        lock = multiprocessing.get_context('spawn').Lock()
        report['semaphore'] = 'sem.' + lock._semlock.name.lstrip('/')
        with open(_flag('ready', event['token']), 'w') as f:
            f.write(seg.name)
        _wait_for(_flag('go', event['token']), event.get('wait_s', 3600))
        with multiprocessing.get_context('spawn').Pool(2, initializer=_take_lock, initargs=(lock,)) as pool:
            report['checksums'] = pool.map(_checksum, [seg.name] * 2)
        report['expected_checksum'] = len(range(0, seg.size, 4096))
        report['segment'] = seg.name
    elif action == 'release':
        open(_flag('go', event['token']), 'w').close()
    elif action == 'usage':
        pass
    elif action == 'ready':
        report['ready'] = os.path.exists(_flag('ready', event['token']))
    else:
        raise ValueError('unknown action %r' % action)
    report['shm_after'] = shm_usage()
    return report
