"""A function that needs POSIX semaphores and shared memory: a Pool, a Lock and a SharedMemory block."""
import multiprocessing
from multiprocessing import shared_memory


def square(n):
    return n * n


def handler(event, context):
    lock = multiprocessing.Lock()
    with lock:
        block = shared_memory.SharedMemory(create=True, size=16)
        block.buf[0] = 42
        seen = block.buf[0]
        block.close()
        block.unlink()
    with multiprocessing.Pool(2) as pool:
        squares = pool.map(square, range(5))
    return {'squares': squares, 'shared': seen}


if __name__ == '__main__':
    print(handler({}, None))
