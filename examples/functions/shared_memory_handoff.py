"""multiprocessing.shared_memory: a child fills a block the parent created, the parent reads it back."""
import hashlib
import multiprocessing
from multiprocessing import shared_memory

from report import environment

SIZE = 1 << 20


def fill(name):
    block = shared_memory.SharedMemory(name=name)
    try:
        block.buf[:SIZE] = bytes(i % 251 for i in range(SIZE))
    finally:
        block.close()


def run(event):
    block = shared_memory.SharedMemory(create=True, size=SIZE)
    try:
        child = multiprocessing.Process(target=fill, args=(block.name,))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise RuntimeError('the child writing shared memory exited with %s' % child.exitcode)
        digest = hashlib.sha256(bytes(block.buf[:SIZE])).hexdigest()
    finally:
        block.close()
        block.unlink()
    return {'workload': 'shared_memory_handoff', 'bytes': SIZE, 'sha256': digest}


def handler(event, context):
    return dict(run(event), **environment())
