"""Pool.map over CPU-bound chunks: counts the primes below a bound."""
import multiprocessing

from report import environment

LIMIT = 200_000
CHUNKS = 16


def count_primes(bounds):
    lo, hi = bounds
    found = 0
    for n in range(max(lo, 2), hi):
        if all(n % d for d in range(2, int(n ** 0.5) + 1)):
            found += 1
    return found


def run(event):
    step = LIMIT // CHUNKS
    chunks = [(i * step, LIMIT if i == CHUNKS - 1 else (i + 1) * step) for i in range(CHUNKS)]
    with multiprocessing.Pool(4) as pool:
        primes = sum(pool.map(count_primes, chunks))
    return {'workload': 'pool_map', 'limit': LIMIT, 'primes': primes}


def handler(event, context):
    return dict(run(event), **environment())
