"""A multiprocessing.Value counter incremented by several processes under a Lock."""
import multiprocessing

from report import environment

PROCESSES = 4
INCREMENTS = 2500


def bump(counter, lock):
    for _ in range(INCREMENTS):
        with lock:
            counter.value += 1


def run(event):
    lock = multiprocessing.Lock()
    counter = multiprocessing.Value('i', 0, lock=False)
    workers = [multiprocessing.Process(target=bump, args=(counter, lock)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {'workload': 'value_lock', 'counter': counter.value}


def handler(event, context):
    return dict(run(event), **environment())
