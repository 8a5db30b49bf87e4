"""concurrent.futures.ProcessPoolExecutor: iterated SHA-256 chains computed in worker processes."""
import hashlib
from concurrent.futures import ProcessPoolExecutor

from report import environment

TASKS = 32
ROUNDS = 2000


def chain(seed):
    digest = str(seed).encode()
    for _ in range(ROUNDS):
        digest = hashlib.sha256(digest).digest()
    return digest


def run(event):
    with ProcessPoolExecutor(max_workers=4) as executor:
        digests = list(executor.map(chain, range(TASKS)))
    return {'workload': 'process_pool', 'tasks': TASKS,
            'digest': hashlib.sha256(b''.join(digests)).hexdigest()}


def handler(event, context):
    return dict(run(event), **environment())
