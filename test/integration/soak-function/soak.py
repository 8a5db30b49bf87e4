"""The soak's function (test/integration/soak.py drives it through aws-lambda-rie, four runtimes sharing one /tmp).

Each invocation:
  - checks that every object this runtime still holds (its ballast, made at its first invocation, and the
    segments it kept from earlier invocations) is there under its name, with the same identity;
  - creates a segment and a semaphore named after its token, hands both by name to a worker process (in a
    session of its own when the event says so: a new process group, whose first use reclaims), waits for the
    worker's post, reads its acknowledgement, and checks both are still its own;
  - event['sections'] times, takes the shared lock, sem_open("/soaklock", O_CREAT, 0600, 1) (opened once per
    runtime), around a read-increment-write of the counter: the last line of /tmp/soak/counter holds the
    count, and each critical section appends the next line, with its name, the file of the semaphore it took
    (inode.generation: one lock is one file) and its pid. One append: a SIGKILL leaves either no line or a whole one, so
    the number of lines is the number of critical sections that completed. Inside, it writes its pid to
    /tmp/soak/holder; finding another live pid there means two holders at once;
  - keeps its segment for later invocations or removes it; or, when the event says `overrun`, repeats all of
    this until the emulator kills the runtime at its timeout, at whatever point it is.
Objects of killed runtimes are left behind for the library's reclaim."""
import os
import subprocess
import sys
import time

import soak_objects as objects

LOCK_NAME = '/soaklock'
SOAK_DIR = '/tmp/soak'
COUNTER = os.path.join(SOAK_DIR, 'counter')
HOLDER = os.path.join(SOAK_DIR, 'holder')
HOLDER_SIZE = 64
BALLAST = 24
KEEP = 3
LINGERING = 2
WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'soak_worker.py')
MIB = 1 << 20

# The nonce keeps the ballast's names apart when a killed runtime's pid comes back (pid_max may be 32768).
STATE = {'pid': os.getpid(), 'nonce': os.urandom(4).hex(), 'invocations': 0, 'lock': None, 'ballast': [],
         'kept': [], 'workers': []}


def _alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return False


def _lock():
    if STATE['lock'] is None:
        STATE['lock'] = objects.sem_open(LOCK_NAME, os.O_CREAT, 0o600, 1)
        _, inode, generation = objects.sem_identity(LOCK_NAME) or (0, 0, 0)
        STATE['lock_file'] = '%d.%d' % (inode, generation)
    return STATE['lock']


def _ballast():
    """Small objects this runtime makes once and holds for its whole life (and a longer directory to scan)."""
    if not STATE['ballast']:
        for i in range(BALLAST):
            name = '/soak-ballast-%d-%s-%d' % (STATE['pid'], STATE['nonce'], i)
            if i % 2:
                sem = objects.sem_open(name, os.O_CREAT | os.O_EXCL, 0o600, 0)
                STATE['ballast'].append(('sem', name, objects.sem_identity(name), sem))
            else:
                fd, mem = objects.shm_create(name, 4096)
                STATE['ballast'].append(('shm', name, objects.identity(fd), (fd, mem)))
    return STATE['ballast']


def _vanished(held):
    """Names among `held` ((kind, name, identity, handle)...) that no longer open the object made."""
    gone = []
    for kind, name, identity, _ in held:
        now = objects.sem_identity(name) if kind == 'sem' else objects.shm_identity(name)
        if now != identity:
            gone.append('%s %s (%s)' % (kind, name, 'gone' if now is None else 're-created'))
    return gone


def _reap(keep=None):
    """Forgets the workers that exited; with `keep`, first waits for the oldest until at most that many still
    linger (each holds its segment, even once unlinked: the runtime's own use of /tmp, which an overrun's fast
    rounds would otherwise multiply)."""
    STATE['workers'] = [w for w in STATE['workers'] if w.poll() is None]
    while keep is not None and len(STATE['workers']) > keep:
        STATE['workers'].pop(0).wait()


def _hand_off(token, mib, session, linger_s, wait_s, report):
    """Creates the token's segment and semaphore, has a worker check and acknowledge them by name; returns
    the held entries, or None when the worker did not answer (killed, by the soak's killer)."""
    name = '/soak-%s' % token
    fd, mem = objects.shm_create(name, mib * MIB)
    for offset in range(0, mib * MIB, MIB):
        mem[offset:offset + len(token)] = token.encode()
    sem = objects.sem_open(name, os.O_CREAT | os.O_EXCL, 0o600, 0)
    held = [('shm', name, objects.identity(fd), (fd, mem)),
            ('sem', name, objects.sem_identity(name), sem)]
    _reap(keep=LINGERING - 1)
    worker = subprocess.Popen([sys.executable, WORKER, name, token, '%.3f' % linger_s],
                              start_new_session=session)
    STATE['workers'].append(worker)
    acked = objects.sem_timedwait(sem, wait_s)
    ack = bytes(mem[64:64 + len(token) + 4])
    if not acked:
        rc = worker.poll()
        report['workers_lost'] += 1
        if rc not in (None, -9):
            report['problems'].append('worker of %s exited with %s without acknowledging' % (name, rc))
        _release(held, unlink=True)
        return None
    report['handoffs'] += 1
    if ack != b'ACK ' + token.encode():
        report['problems'].append('worker of %s acknowledged %r' % (name, ack))
    return held


def _release(held, unlink):
    for kind, name, _, handle in held:
        if kind == 'sem':
            objects.sem_close(handle)
            if unlink:
                objects.sem_unlink(name)
        else:
            fd, mem = handle
            mem.close()
            os.close(fd)
            if unlink:
                objects.shm_unlink(name)


def _critical_section(tag, wait_s, hold_s, report):
    lock = _lock()
    if not objects.sem_timedwait(lock, wait_s):
        report['lock_timeouts'] += 1
        return
    try:
        holder = os.open(HOLDER, os.O_RDWR)
        try:
            before = os.pread(holder, HOLDER_SIZE, 0).split()
            if before and int(before[0]) != STATE['pid'] and _alive(int(before[0])):
                report['problems'].append('took the lock while pid %s (%s) held it' % (
                    before[0].decode(), before[1].decode()))
            os.pwrite(holder, ('%d %s' % (STATE['pid'], tag)).ljust(HOLDER_SIZE - 1).encode() + b'\n', 0)
            with open(COUNTER, 'rb') as f:
                f.seek(max(0, os.fstat(f.fileno()).st_size - 128))
                lines = f.read().splitlines()
            count = int(lines[-1].split()[0]) if lines else 0
            time.sleep(hold_s)
            appender = os.open(COUNTER, os.O_WRONLY | os.O_APPEND)
            try:
                os.write(appender, b'%d %s %s %d\n' % (count + 1, tag.encode(), STATE['lock_file'].encode(),
                                                       STATE['pid']))
            finally:
                os.close(appender)
            report['critical_sections'].append(tag)
            os.pwrite(holder, b' ' * (HOLDER_SIZE - 1) + b'\n', 0)
        finally:
            os.close(holder)
    finally:
        objects.sem_post(lock)


def _round(event, tag, remaining_s, report):
    held = _hand_off(tag, event['mib'], event['session'], event['linger_s'], max(remaining_s() - 0.5, 0.1),
                     report)
    if held is not None:
        report['problems'] += ['own object vanished: ' + v for v in _vanished(held)]
    for section in range(event['sections']):
        _critical_section('%s/%d' % (tag, section), max(remaining_s() - 0.5, 0.1), event['hold_s'], report)
    if held is None:
        return
    report['problems'] += ['own object vanished: ' + v for v in _vanished(held)]
    if event['keep']:
        STATE['kept'].append(held)
        while len(STATE['kept']) > KEEP:
            _release(STATE['kept'].pop(0), unlink=True)
    else:
        _release(held, unlink=True)


def handler(event, context):
    STATE['invocations'] += 1
    report = {'token': event['token'], 'runtime_pid': STATE['pid'], 'invocation_of_runtime': STATE['invocations'],
              'handoffs': 0, 'workers_lost': 0, 'lock_timeouts': 0, 'critical_sections': [], 'problems': []}

    def remaining_s():
        return context.get_remaining_time_in_millis() / 1000

    _reap()
    own = _ballast()
    report['problems'] += ['own object vanished: ' + v for v in _vanished(own + sum(STATE['kept'], []))]
    _round(event, event['token'], remaining_s, report)
    rounds = 0
    while event['overrun']:  # until the emulator's timeout kills the runtime and its children
        rounds += 1
        _round(event, '%s.%d' % (event['token'], rounds), lambda: 30.0, report)
    report['problems'] += ['own object vanished: ' + v for v in _vanished(own + sum(STATE['kept'], []))]
    return report
