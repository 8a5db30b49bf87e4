from concurrent.futures import ProcessPoolExecutor


def square(n):
    return n * n


def handler(event, context):
    # Needs the shm_redirect layer on Lambda: the executor's queues take a
    # semaphore, and sem_open has no /dev/shm there.
    with ProcessPoolExecutor(max_workers=2) as pool:
        return {"squares": list(pool.map(square, range(int(event.get("n", 8)))))}
