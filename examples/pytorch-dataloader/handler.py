"""DataLoader(num_workers=4) on Lambda: the workers hand batches back through a multiprocessing
queue (a named semaphore) and, with torch's default sharing strategy, tensors in shared memory
(shm_open). Without /dev/shm both fail as iteration starts; with shm_redirect.so preloaded they
land in /tmp/shm."""
import os

import torch
from torch.utils.data import DataLoader, Dataset


class Squares(Dataset):
    """Item i is a 64x64 tensor filled with i*i: the sum over the data set is known in advance."""

    def __init__(self, size):
        self.size = size

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        return torch.full((64, 64), index * index, dtype=torch.int64)


def handler(event, context):
    size = int(event.get('items', 512))
    workers = int(event.get('workers', 4))
    loader = DataLoader(Squares(size), batch_size=32, num_workers=workers)
    total = 0
    batches = 0
    for batch in loader:
        total += int(batch.sum())
        batches += 1
    expected = 64 * 64 * sum(i * i for i in range(size))
    return {
        'batches': batches,
        'sum': total,
        'expected': expected,
        'ok': total == expected,
        'workers': workers,
        'torch': torch.__version__,
        'sharing_strategy': torch.multiprocessing.get_sharing_strategy(),
        'ld_preload': os.environ.get('LD_PRELOAD', ''),
    }
