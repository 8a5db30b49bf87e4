"""One worker of the fan-out example (examples/fan-out.ts): Step Functions' Distributed Map hands it a batch of
items (event['Items']); it spreads them over a Pool of os.cpu_count() processes, one per vCPU Lambda gives
the function, and returns one result per item. Each item is a range of integers whose primes it counts."""
import multiprocessing
import os

from pool_map import count_primes
from report import environment


def handler(event, context):
    items = event['Items']
    for item in items:
        if not (isinstance(item, dict) and isinstance(item.get('lo'), int) and isinstance(item.get('hi'), int)):
            raise ValueError('each item must be {"lo": int, "hi": int}, got %r' % (item,))
    processes = os.cpu_count() or 1
    with multiprocessing.Pool(processes) as pool:
        primes = pool.map(count_primes, [(item['lo'], item['hi']) for item in items])
    return dict({'workload': 'fan_out_worker', 'processes': processes,
                 'results': [dict(item, primes=n) for item, n in zip(items, primes)]}, **environment())
