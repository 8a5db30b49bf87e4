"""multiprocessing in a container image function: Pool, Queue, Value/Lock, shared_memory and
ProcessPoolExecutor, each of which needs named semaphores or shared memory (/dev/shm, which Lambda
does not give an image either)."""
import concurrent.futures
import hashlib
import multiprocessing
import os
from multiprocessing import shared_memory


def square(n):
    return n * n


def produce(queue, items):
    for i in range(items):
        queue.put(i)
    queue.put(None)


def add(counter, times):
    for _ in range(times):
        with counter.get_lock():
            counter.value += 1


def fill(name, size):
    block = shared_memory.SharedMemory(name=name)
    block.buf[:size] = bytes(i % 251 for i in range(size))
    block.close()


def handler(event, context):
    with multiprocessing.Pool(4) as pool:
        pool_sum = sum(pool.map(square, range(1000)))

    queue = multiprocessing.Queue()
    producer = multiprocessing.Process(target=produce, args=(queue, 1000))
    producer.start()
    queue_sum = 0
    while (item := queue.get()) is not None:
        queue_sum += item * item
    producer.join()

    counter = multiprocessing.Value('i', 0)
    workers = [multiprocessing.Process(target=add, args=(counter, 2500)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    size = 1 << 20
    block = shared_memory.SharedMemory(create=True, size=size)
    try:
        writer = multiprocessing.Process(target=fill, args=(block.name, size))
        writer.start()
        writer.join()
        digest = hashlib.sha256(bytes(block.buf[:size])).hexdigest()
    finally:
        block.close()
        block.unlink()

    with concurrent.futures.ProcessPoolExecutor(4) as executor:
        executor_sum = sum(executor.map(square, range(100)))

    return {
        'pool_sum': pool_sum,
        'queue_sum': queue_sum,
        'counter': counter.value,
        'shared_memory_sha256': digest,
        'executor_sum': executor_sum,
        'ld_preload': os.environ.get('LD_PRELOAD', ''),
        'dev_shm': os.path.isdir('/dev/shm'),
    }
