#!/usr/bin/env python3
"""Soak of the library's reclaim through AWS's Runtime Interface Emulator: several runtimes share one /tmp, as
Lambda Managed Instances run them, while runtimes and workers are SIGKILLed at random points.

    python3 test/integration/soak.py [--invocations 1000] [--seed N] [--library DIR] [--arch x86_64 --arch arm64]

Two emulators per architecture (x86_64 natively, arm64 under qemu) run the function test/integration/soak-function
(soak.py says what an invocation does) in two Lambda-like sandboxes (test/tools/lambda-sandbox.sh, uid 993,
no /dev/shm) whose /tmp is one ext4 image mounted here. The library comes from --library (a directory holding
x86_64/shm_redirect.so and arm64/shm_redirect.so: `make -C layer all-arches` makes layer/build), laid out as
its layer is, at /opt/lib with LD_PRELOAD.

Meanwhile, with the seed printed first:
  - some invocations overrun: they repeat their work until the emulator's timeout kills the runtime and every
    process it started, at whatever point each is;
  - a killer SIGKILLs a random worker or runtime now and then, and 30 % of the processes it catches holding
    the reclaim's claim directory open (in the middle of a reclaim);
  - workers start in a session of their own half the time: a new process group, whose first use reclaims;
  - a sampler records /tmp's use, and releases the shared lock when its holder was killed inside its critical
    section (a SIGKILLed holder never posts; Lambda would leave it stuck, the soak must go on).

At the end, every runtime stopped and a fresh process group's first use having reclaimed (no grace), it checks: the
counter equals the number of critical sections that completed (no lost exclusion), no invocation saw one of its
own objects vanish or change, /tmp/shm holds nothing (every group is dead), and /tmp's use stayed within
--disk-bound-mib. Exit status 0 when all hold, 1 otherwise.
"""
import argparse
import ctypes
import json
import mmap
import os
import random
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import invoker  # noqa: E402
from environment import EnvironmentFailed  # noqa: E402

REPO = invoker.REPO
FUNCTION = os.path.join(HERE, 'soak-function')
WORK = os.path.join(HERE, '.work', 'soak')
MIB = 1 << 20
HOLDER_SIZE = 64
LOCK_FILE = 'sem.soaklock'
IN_NAMESPACE = 'CLM_SOAK_IN_NAMESPACE'
# A lock whose holder slot stays empty this long while its value is 0 lost its holder between sem_wait and
# the pid write (or between clearing it and sem_post): only a SIGKILL stops a holder for so long there.
EMPTY_HOLDER_STUCK_S = 20
# What a live runtime may hold: its 3 kept segments, the current one and those of up to 2 lingering workers
# (unlinked, still mapped), 8 MiB at most each (soak.py: KEEP, LINGERING), 24 one-page ballast objects; plus
# 16 MiB for a killed runtime's segments until the next group's first use reclaims them. Without the reclaim,
# every killed runtime adds its segments for good.
DISK_MIB_PER_RUNTIME = 64
# The share of processes the killer SIGKILLs when it first sees them in the middle of a reclaim.
MID_RECLAIM_KILLS = 0.3


def parse(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--invocations', type=int, default=1000, help='invocations in all (default %(default)s)')
    p.add_argument('--seed', type=int, help='seed of every random choice (default: from the clock; printed)')
    p.add_argument('--library', default=os.path.join(REPO, 'layer', 'build'),
                   help='directory with <arch>/shm_redirect.so (default %(default)s)')
    p.add_argument('--arch', action='append', choices=['x86_64', 'arm64'],
                   help='architectures to run (repeatable; default both, x86_64 only with CLM_SKIP_ARM64=1)')
    p.add_argument('--runtimes-per-arch', type=int, default=2)
    p.add_argument('--timeout', type=float, default=3, help='x86_64 invocation timeout, s (default %(default)s)')
    p.add_argument('--timeout-arm64', type=float, default=15, help='arm64 (qemu) timeout, s (default %(default)s)')
    p.add_argument('--overrun', type=float, default=0.06, help='share of invocations run until their timeout')
    p.add_argument('--kill-every', type=float, default=1.5, help='mean seconds between random kills')
    p.add_argument('--tmp-mib', type=int, default=512, help='size of the shared /tmp (Lambda\'s default)')
    p.add_argument('--disk-bound-mib', type=int,
                   help='most /tmp may hold above its empty use at any sample (default: %d MiB a runtime)'
                   % DISK_MIB_PER_RUNTIME)
    p.add_argument('--env', action='append', default=[], metavar='NAME=VALUE',
                   help='add a variable to the function\'s environment (e.g. SHM_REDIRECT_RECLAIM=0)')
    p.add_argument('--json', help='write the figures to this file')
    args = p.parse_args(argv)
    if not args.arch:
        args.arch = ['x86_64'] if os.environ.get('CLM_SKIP_ARM64') == '1' else ['x86_64', 'arm64']
    if args.disk_bound_mib is None:
        args.disk_bound_mib = DISK_MIB_PER_RUNTIME * args.runtimes_per_arch * len(args.arch)
    if args.seed is None:
        args.seed = int(time.time() * 1000) % 1000000007
    return args


def log(*parts):
    print(time.strftime('%H:%M:%S'), *parts, flush=True)


# --- the shared /tmp ---------------------------------------------------------------------------------------

class SharedTmp:
    """An ext4 image of Lambda's /tmp size, loop-mounted in this process's private mount namespace (it goes
    away with the namespace, whatever happens), bound as /tmp into each sandbox."""

    def __init__(self, mib):
        os.makedirs(WORK, exist_ok=True)
        self.scratch = tempfile.mkdtemp(prefix='tmp-', dir=WORK)
        self.image = os.path.join(self.scratch, 'tmp.img')
        self.path = os.path.join(self.scratch, 'tmp')
        os.mkdir(self.path)
        subprocess.run(['truncate', '-s', '%dM' % mib, self.image], check=True)
        subprocess.run(['mkfs.ext4', '-q', '-F', '-E', 'root_owner=0:0', self.image], check=True)
        subprocess.run(['mount', '-o', 'loop', self.image, self.path], check=True)
        os.chmod(self.path, 0o1777)
        self.soak = os.path.join(self.path, 'soak')
        os.mkdir(self.soak)
        os.chmod(self.soak, 0o777)
        for name, content in (('counter', b''), ('holder', b' ' * (HOLDER_SIZE - 1) + b'\n')):
            with open(os.path.join(self.soak, name), 'wb') as f:
                f.write(content)
            os.chmod(os.path.join(self.soak, name), 0o666)
        self.empty_use = self.used()

    def used(self):
        vfs = os.statvfs(self.path)
        return (vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize

    def shm(self):
        return os.path.join(self.path, 'shm')

    def close(self):
        subprocess.run(['umount', self.path], check=False)
        subprocess.run(['rm', '-rf', self.scratch], check=False)


# --- our processes -----------------------------------------------------------------------------------------

def _children(pid):
    kids = []
    try:
        for tid in os.listdir('/proc/%d/task' % pid):
            with open('/proc/%d/task/%s/children' % (pid, tid)) as f:
                kids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return kids


def _cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode(errors='replace')
    except OSError:
        return ''


def _stat(pid):
    """(state, start time) of a process; None when it is gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return fields[0], fields[19]
    except (OSError, IndexError):
        return None


def _in_reclaim(pid):
    """Whether the process is in the middle of a reclaim pass: every process that used the library keeps the
    registry (<dir>.reclaim) open once; a pass opens it a second time, for its listing, and at no other time."""
    seen = 0
    try:
        for fd in os.listdir('/proc/%d/fd' % pid):
            try:
                seen += os.readlink('/proc/%d/fd/%s' % (pid, fd)).rstrip('/').endswith('.reclaim')
            except OSError:
                pass
    except OSError:
        pass
    return seen >= 2


def _marked(pid, run_id):
    try:
        with open('/proc/%d/environ' % pid, 'rb') as f:
            return b'SOAK_RUN=' + run_id.encode() + b'\0' in f.read()
    except OSError:
        return False


def soak_processes(roots):
    """(workers, runtimes) below the sandboxes' processes."""
    workers, runtimes, todo = [], [], list(roots)
    while todo:
        pid = todo.pop()
        kids = _children(pid)
        todo += kids
        cmd = _cmdline(pid)
        if 'soak_worker.py' in cmd:
            workers.append(pid)
        elif 'awslambdaric' in cmd and 'aws-lambda-rie' not in cmd:  # not the emulator nor its shell
            runtimes.append(pid)
    return workers, runtimes


def marked_processes(run_id):
    """Every process of this run, found by the variable in its environment: workers in sessions of their own
    whose runtime was killed are no longer below the sandboxes."""
    return [int(e) for e in os.listdir('/proc') if e.isdigit() and _marked(int(e), run_id)]


# --- the threads beside the invocations ------------------------------------------------------------------

class Killer(threading.Thread):
    def __init__(self, rng, roots, kill_every, stop):
        super().__init__(daemon=True)
        self.rng, self.roots, self.kill_every, self.stop = rng, roots, kill_every, stop
        self.kills = {'worker': 0, 'runtime': 0}
        self.mid_reclaim = 0
        self.judged = set()

    def _kill(self, pid, kind):
        mid = _in_reclaim(pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.kills[kind] += 1
        self.mid_reclaim += mid

    def run(self):
        next_kill = time.monotonic() + self.rng.expovariate(1 / self.kill_every)
        while not self.stop.wait(0.02):
            workers, runtimes = soak_processes(self.roots())
            for pid in workers + runtimes:
                # Decided once per process: every runtime's first use reclaims, and re-drawing at each look
                # would kill nearly every runtime that reclaims for long.
                if _in_reclaim(pid) and (pid, _stat(pid)) not in self.judged:
                    self.judged.add((pid, _stat(pid)))
                    if self.rng.random() < MID_RECLAIM_KILLS:
                        self._kill(pid, 'worker' if pid in workers else 'runtime')
            if time.monotonic() < next_kill:
                continue
            next_kill = time.monotonic() + self.rng.expovariate(1 / self.kill_every)
            kind = 'runtime' if runtimes and (not workers or self.rng.random() < 0.3) else 'worker'
            pool = runtimes if kind == 'runtime' else workers
            if pool:
                self._kill(self.rng.choice(pool), kind)


class Sampler(threading.Thread):
    """/tmp's use every 0.2 s, and the lock's keeper: a holder that died inside its critical section (the
    holder file names a dead process, twice in a row) is cleared and the lock posted for it."""

    def __init__(self, tmp, stop):
        super().__init__(daemon=True)
        self.tmp, self.stop = tmp, stop
        self.max_used = 0
        self.max_objects = 0
        self.samples = 0
        self.recoveries = 0
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.sem_post.argtypes = [ctypes.c_void_p]

    def _post(self):
        """sem_post on the semaphore the name opens now (the file holds glibc's sem_t), if it is still 0."""
        fd = os.open(os.path.join(self.tmp.shm(), LOCK_FILE), os.O_RDWR)
        try:
            mem = mmap.mmap(fd, 32)
        finally:
            os.close(fd)
        try:
            if struct.unpack_from('<Q', mem)[0] & 0xffffffff == 0:
                sem = ctypes.c_char.from_buffer(mem)
                try:
                    self.libc.sem_post(ctypes.c_void_p(ctypes.addressof(sem)))
                finally:
                    del sem  # the buffer must be released before the map closes
                self.recoveries += 1
        finally:
            mem.close()

    def _lock_value(self):
        try:
            with open(os.path.join(self.tmp.shm(), LOCK_FILE), 'rb') as f:
                return struct.unpack('<Q', f.read(8))[0] & 0xffffffff
        except (OSError, struct.error):
            return None

    def run(self):
        holder_path = os.path.join(self.tmp.soak, 'holder')
        # The holder's start time, read when its pid first shows: a pid reused later is not the holder.
        seen_dead, empty_since, started = None, None, {}
        while not self.stop.wait(0.2):
            self.samples += 1
            self.max_used = max(self.max_used, self.tmp.used() - self.tmp.empty_use)
            try:
                self.max_objects = max(self.max_objects, len(os.listdir(self.tmp.shm())))
            except FileNotFoundError:
                pass
            with open(holder_path, 'rb') as f:
                holder = f.read(HOLDER_SIZE)
            fields = holder.split()
            if fields:
                pid = int(fields[0])
                stat = _stat(pid)
                start = started.setdefault(holder, stat and stat[1])
                if stat is None or stat[0] == 'Z' or stat[1] != start:
                    if seen_dead == holder:
                        self._release(holder_path)
                        seen_dead = None
                    else:
                        seen_dead = holder
                    empty_since = None
                    continue
            seen_dead = None
            if not fields and self._lock_value() == 0:
                empty_since = empty_since or time.monotonic()
                if time.monotonic() - empty_since > EMPTY_HOLDER_STUCK_S:
                    self._release(holder_path)
                    empty_since = None
            else:
                empty_since = None

    def _release(self, holder_path):
        with open(holder_path, 'r+b') as f:
            f.write(b' ' * (HOLDER_SIZE - 1) + b'\n')
        try:
            self._post()
        except (OSError, ValueError):
            pass


# --- the run --------------------------------------------------------------------------------------------

def layer_dir(arch, library):
    """The library laid out as its layer is (lib/shm_redirect.so, /opt on Lambda)."""
    layer = os.path.join(WORK, 'layer-' + arch)
    os.makedirs(os.path.join(layer, 'lib'), exist_ok=True)
    source = os.path.join(library, arch, 'shm_redirect.so')
    if not os.path.isfile(source):
        raise invoker.InvokerError('no %s (make -C layer all-arches builds it)' % source)
    with open(source, 'rb') as src, open(os.path.join(layer, 'lib', 'shm_redirect.so'), 'wb') as dst:
        dst.write(src.read())
    return layer


def function_spec(arch, library, timeout, run_id):
    layer = layer_dir(arch, library)
    return invoker.FunctionSpec(
        stack='Soak', logical_id=arch, path='Soak/' + arch, runtime='python3.12', handler='soak.handler',
        arch=arch, name='soak-' + arch, timeout=int(timeout), memory=1769,
        env={'LD_PRELOAD': invoker.PRELOAD, 'SOAK_RUN': run_id}, code=(FUNCTION, 'zip'), layers=[(layer, 'zip')])


def event_for(seed, number, overrun):
    rng = random.Random('%d/%d' % (seed, number))
    return {'token': 'i%d' % number, 'mib': rng.choice([1, 2, 4, 8]), 'session': rng.random() < 0.5,
            'linger_s': rng.choice([0, 0, 0.05, 0.3, 1.0]), 'keep': rng.random() < 0.3,
            'overrun': rng.random() < overrun, 'hold_s': rng.uniform(0, 0.02), 'sections': rng.randint(1, 3)}


class Ledger:
    """What the invocations answered, from all runtime threads."""

    def __init__(self, total):
        self.lock = threading.Lock()
        self.next = 0
        self.total = total
        self.outcomes = {}
        self.reported_sections = []
        self.problems = []
        self.figures = {'handoffs': 0, 'workers_lost': 0, 'lock_timeouts': 0}
        self.by_runtime = {}
        self.where = {}

    def take(self):
        with self.lock:
            if self.next >= self.total:
                return None
            self.next += 1
            return self.next

    def record(self, where, event, inv):
        kind = inv.outcome.kind if inv else 'emulator-failed'
        expected_timeout = event['overrun']
        with self.lock:
            self.where[event['token']] = where
            self.outcomes[kind] = self.outcomes.get(kind, 0) + 1
            self.by_runtime[where] = self.by_runtime.get(where, 0) + 1
            if kind == 'response':
                p = inv.outcome.payload
                self.reported_sections += p['critical_sections']
                for key in self.figures:
                    self.figures[key] += p[key]
                self.problems += ['%s %s: %s' % (where, event['token'], x) for x in p['problems']]
            elif kind == 'error':
                self.problems.append('%s %s: the handler raised %s' % (where, event['token'], json.dumps(
                    inv.outcome.error)[:800]))
            elif kind == 'timeout' and not expected_timeout:
                self.outcomes['timeout-unplanned'] = self.outcomes.get('timeout-unplanned', 0) + 1


def runtime_thread(env, runtime, where, ledger, seed, overrun, stop):
    while not stop.is_set():
        number = ledger.take()
        if number is None:
            return
        event = event_for(seed, number, overrun)
        try:
            inv = env.invoke(event, runtime=runtime)
        except EnvironmentFailed as e:
            ledger.record(where, event, None)
            ledger.problems.append('%s %s: %s' % (where, event['token'], str(e)[:800]))
            continue
        ledger.record(where, event, inv)
        if number % 50 == 0:
            log('%d invocations sent, %s' % (number, json.dumps(ledger.outcomes, sort_keys=True)))


def final_reclaim(tmp, library):
    """A fresh process group's first use, with every runtime gone: it must leave nothing in /tmp/shm. It runs
    the host's Python with the x86_64 library (its layer directory at /opt, as the runtimes had it)."""
    code = ('import _posixshmem, os; fd = _posixshmem.shm_open("/soak-final", os.O_CREAT | os.O_RDWR, 0o600); '
            'os.close(fd); _posixshmem.shm_unlink("/soak-final")')
    proc = subprocess.run(['bash', invoker.SANDBOX, '--tmp', tmp.path, '--user', '%d:%d' % (
        invoker.LAMBDA_UID, invoker.LAMBDA_GID), '--bind', '%s:/opt:ro' % layer_dir('x86_64', library),
        '--', '/usr/bin/env', '-i', 'PATH=/usr/bin:/bin', 'LD_PRELOAD=' + invoker.PRELOAD, 'SHM_REDIRECT_DEBUG=1',
        'SHM_REDIRECT_RECLAIM_AFTER=0',
        'setsid', '--wait', 'python3', '-c', code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        universal_newlines=True)
    return proc.returncode, proc.stdout


def counter_check(tmp):
    """(lines, counter, written twice, tags, lock files, returns): lines written by completed critical sections,
    the count the last one wrote, counts written more than once (two holders read the same value), the
    sections' names, the files (inode.generation) of the semaphores they took in the order taken, and how often
    a section took a
    semaphore file that another one had replaced. A lock's file may be replaced once no live process has it
    open (every runtime that opened it was killed); a process taking the old one after that still had it open
    while the new one was made: two locks at once."""
    with open(os.path.join(tmp.soak, 'counter'), 'rb') as f:
        lines = [line.split() for line in f.read().splitlines() if line.strip()]
    values = [int(fields[0]) for fields in lines]
    seen, twice = set(), 0
    for v in values:
        twice += v in seen
        seen.add(v)
    order, returns = [], []
    for fields in lines:
        inode = fields[2].decode()
        if not order or order[-1] != inode:
            if inode in order:
                returns.append(b' '.join(fields).decode())
            order.append(inode)
    return (len(lines), values[-1] if values else 0, twice, {fields[1].decode() for fields in lines},
            order, returns)


def run(args):
    run_id = '%d-%d' % (args.seed, os.getpid())
    log('soak: seed %d, %d invocations, %s, library %s' % (
        args.seed, args.invocations, ' + '.join('%d x %s' % (args.runtimes_per_arch, a) for a in args.arch),
        os.path.realpath(args.library)))
    tmp = SharedTmp(args.tmp_mib)
    envs, stop, soaked = [], threading.Event(), False
    started = time.monotonic()
    try:
        for arch in args.arch:
            timeout = args.timeout if arch == 'x86_64' else args.timeout_arm64
            spec = function_spec(arch, args.library, timeout, run_id)
            env = invoker.environment(spec, WORK, runtimes=args.runtimes_per_arch,
                                      env=dict(kv.split('=', 1) for kv in args.env),
                                      timeouts=[int(timeout)] * args.runtimes_per_arch, tmp_dir=tmp.path)
            log('soak: %s: %s, timeout %ds' % (arch, env.platform.description, timeout))
            envs.append((arch, env.start()))
        startup_s = time.monotonic() - started
        log('soak: %d runtimes listening (%.1fs); shared /tmp %s' % (
            len(envs) * args.runtimes_per_arch, startup_s, tmp.path))
        started = time.monotonic()
        ledger = Ledger(args.invocations)
        killer = Killer(random.Random('%d/killer' % args.seed), lambda: [e.proc.pid for _, e in envs],
                        args.kill_every, stop)
        sampler = Sampler(tmp, stop)
        sampler.start()
        killer.start()
        threads = [threading.Thread(target=runtime_thread, args=(
            env, r, '%s/%d' % (arch, r), ledger, args.seed, args.overrun, stop), daemon=True)
            for arch, env in envs for r in range(args.runtimes_per_arch)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        killer.join()
        sampler.join()
        soak_s = time.monotonic() - started
        soaked = True
    finally:
        stop.set()
        for _, env in envs:
            env.close()
        for pid in marked_processes(run_id):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not soaked:
            tmp.close()
    deadline = time.monotonic() + 10
    while marked_processes(run_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        left_before = sorted(os.listdir(tmp.shm()))
        status, output = final_reclaim(tmp, args.library)
        left = sorted(os.listdir(tmp.shm()))
        lines, counter, duplicates, logged, inodes, returns = counter_check(tmp)
        shutil.copy(os.path.join(tmp.soak, 'counter'), os.path.join(WORK, 'counter.last'))
        final_use = tmp.used() - tmp.empty_use
    finally:
        tmp.close()

    missing = [t for t in ledger.reported_sections if t not in logged]
    kills = killer.kills
    figures = {
        'seed': args.seed, 'invocations': args.invocations, 'architectures': args.arch,
        'runtimes': len(envs) * args.runtimes_per_arch, 'library': os.path.realpath(args.library),
        'outcomes': ledger.outcomes, 'invocations_by_runtime': ledger.by_runtime,
        'kills_worker': kills['worker'], 'kills_runtime': kills['runtime'],
        'kills_mid_reclaim': killer.mid_reclaim, 'handoffs': ledger.figures['handoffs'],
        'workers_lost': ledger.figures['workers_lost'], 'lock_timeouts': ledger.figures['lock_timeouts'],
        'lock_recoveries': sampler.recoveries, 'critical_sections': lines, 'counter': counter,
        'counts_written_twice': duplicates, 'lock_files': len(set(inodes)), 'lock_file_returns': len(returns),
        'reported_sections_missing': len(missing),
        'max_tmp_use_mib': round(sampler.max_used / MIB, 1), 'max_shm_entries': sampler.max_objects,
        'disk_samples': sampler.samples, 'shm_left_before_final_reclaim': len(left_before),
        'shm_left_after_final_reclaim': left, 'tmp_use_at_end_mib': round(final_use / MIB, 1),
        'startup_s': round(startup_s, 1), 'soak_s': round(soak_s, 1),
    }
    checks = [
        ('the counter equals the critical sections that completed (%d = %d, %d counts written twice)'
         % (counter, lines, duplicates), counter == lines and duplicates == 0),
        ('no critical section took a lock file after another had replaced it (%d returns; %d lock files in turn)'
         % (len(returns), len(set(inodes))), not returns),
        ('every critical section an invocation reported is in the counter file (%d missing)' % len(missing),
         not missing),
        ('no invocation saw one of its objects vanish or another holder of the lock, or failed (%d problems)'
         % len(ledger.problems),
         not ledger.problems),
        ('/tmp/shm holds nothing after a fresh group\'s reclaim (%d entries%s)'
         % (len(left), (': ' + ', '.join(left[:10])) if left else ''), not left and status == 0),
        ('/tmp use stayed within %d MiB (max %.1f MiB over %d samples)'
         % (args.disk_bound_mib, sampler.max_used / MIB, sampler.samples),
         sampler.max_used <= args.disk_bound_mib * MIB),
        ('every invocation was answered (%d of %d)' % (sum(v for k, v in ledger.outcomes.items()
                                                           if k != 'timeout-unplanned'), args.invocations),
         sum(v for k, v in ledger.outcomes.items() if k != 'timeout-unplanned') == args.invocations),
    ]
    log('soak: figures %s' % json.dumps(figures, sort_keys=True))
    for line in returns[:10]:
        token = line.split()[1].split('/')[0].split('.')[0]
        log('  a replaced lock file taken: "%s" (count, section, inode.generation, pid) by %s' % (
            line, ledger.where.get(token, '?')))
    for problem in ledger.problems[:30]:
        log('  problem: ' + problem)
    if len(ledger.problems) > 30:
        log('  ... and %d more problems' % (len(ledger.problems) - 30))
    if left or status != 0:
        log('soak: the final reclaim (exit %d) said:\n%s' % (status, output[-3000:]))
    for text, ok in checks:
        log('  %s %s' % ('ok    ' if ok else 'FAILED', text))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(figures, checks=[{'check': t, 'ok': ok} for t, ok in checks], problems=ledger.problems),
                      f, indent=2)
    failed = sum(not ok for _, ok in checks)
    print('soak: %d passed, %d failed' % (len(checks) - failed, failed), flush=True)
    return 1 if failed else 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if os.geteuid() != 0:
        print('soak: needs root (mount namespaces, loop devices, chroot)', file=sys.stderr)
        return 2
    if os.environ.get(IN_NAMESPACE) != '1':
        # The shared /tmp's mount lives in a namespace of our own: it goes when we do.
        os.environ[IN_NAMESPACE] = '1'
        os.execvp('unshare', ['unshare', '--mount', '--propagation', 'private', '--', sys.executable,
                              os.path.abspath(__file__)] + argv + ['--seed', str(args.seed)])
    try:
        return run(args)
    except (invoker.InvokerError, EnvironmentFailed) as e:
        print('soak: %s' % e, file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
