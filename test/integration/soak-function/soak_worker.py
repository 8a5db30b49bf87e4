"""The soak's worker: handed a segment and a semaphore by name (argv: NAME TOKEN LINGER_S), it checks the
segment carries the token at every MiB, writes its acknowledgement into it, posts the semaphore, and lingers
holding both open. Started in a session of its own half the time, so that its first use of the library is a
new group's (a reclaim), at the very moment the soak's killer may SIGKILL it."""
import os
import sys
import time

import soak_objects as objects

ACK_OFFSET = 64


def main(name, token, linger_s):
    fd, mem, _ = objects.shm_attach(name)
    try:
        want = token.encode()
        for offset in range(0, len(mem), 1 << 20):
            if mem[offset:offset + len(want)] != want:
                print('soak worker %s: the segment has %r at %d, not the token' % (
                    name, mem[offset:offset + len(want)], offset), file=sys.stderr)
                return 3
        mem[ACK_OFFSET:ACK_OFFSET + len(want) + 4] = b'ACK ' + want
        sem = objects.sem_open(name)
        objects.sem_post(sem)
        time.sleep(linger_s)
        objects.sem_close(sem)
    finally:
        mem.close()
        os.close(fd)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
