"""A two-stage pipeline over multiprocessing.Queue: a producer, squaring workers, and the parent summing."""
import multiprocessing

from report import environment

ITEMS = 1000
WORKERS = 2


def produce(out_queue):
    for n in range(ITEMS):
        out_queue.put(n)
    for _ in range(WORKERS):
        out_queue.put(None)


def square(in_queue, out_queue):
    while True:
        n = in_queue.get()
        if n is None:
            out_queue.put(None)
            return
        out_queue.put(n * n)


def run(event):
    numbers = multiprocessing.Queue()
    squares = multiprocessing.Queue()
    stages = [multiprocessing.Process(target=produce, args=(numbers,))]
    stages += [multiprocessing.Process(target=square, args=(numbers, squares)) for _ in range(WORKERS)]
    for stage in stages:
        stage.start()
    total, count, finished = 0, 0, 0
    while finished < WORKERS:
        item = squares.get(timeout=60)
        if item is None:
            finished += 1
        else:
            total += item
            count += 1
    for stage in stages:
        stage.join()
    return {'workload': 'queue_pipeline', 'items': count, 'sum_of_squares': total}


def handler(event, context):
    return dict(run(event), **environment())
