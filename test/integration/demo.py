#!/usr/bin/env python3
"""`npx projen demo`: the main story in about a minute, from a fresh clone.

Synthesizes examples/demo.ts (one Python function that uses Pool, Queue, SharedMemory, Value/Lock and
ProcessPoolExecutor, deployed twice: with the fix and without) and invokes both in the Lambda-like sandbox,
then shows the two outcomes side by side with their timings. Where the sandbox cannot run (not Linux, not
root, no mount namespaces) or with CLM_DEMO_MODE=container, the same function runs as an image in two
containers instead (demo_container.py). x86_64 only, on a Python of this machine, so
nothing needs a cross compiler, qemu or a root filesystem. The full matrix (arm64 under qemu, glibc 2.31, every
runtime) is `npx projen demo:full` (test/integration/demo-full.sh).
"""
import json
import os
import shutil
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import invoker  # noqa: E402

WORK = os.path.join(HERE, '.work', 'demo')
APP = 'npx ts-node --transpile-only --prefer-ts-exts examples/demo.ts'
STACK = 'MultiprocessingDemo'
STEPS = 5
# The runtime of the demo: the first of invoker.HOST_RUNTIMES whose Python this machine has; without one, the AL2
# runtime on Debian 11's own Python (a root filesystem built once).
FALLBACK_RUNTIME = 'python3.11'
HEARTBEAT_S = 5


class Step:
    """Prints a numbered line as a step starts, a heartbeat while it runs, and its duration at the end."""
    timings = []

    def __init__(self, number, title, label, doing=None):
        self.number, self.title, self.label = number, title, label
        self.doing = doing or label  # what the heartbeat says; a step may update it as it goes

    def __enter__(self):
        print('[%d/%d] %s' % (self.number, STEPS, self.title), flush=True)
        self.started = time.monotonic()
        self.done = threading.Event()
        threading.Thread(target=self._beat, daemon=True).start()
        return self

    def _beat(self):
        while not self.done.wait(HEARTBEAT_S):
            print('      ... %s, %d s so far' % (self.doing, time.monotonic() - self.started), flush=True)

    def __exit__(self, *exc):
        self.done.set()
        elapsed = time.monotonic() - self.started
        Step.timings.append((self.label, elapsed))
        if exc[0] is None:
            print('      done in %.1fs' % elapsed, flush=True)


def choose_runtime():
    """The first runtime whose Python this machine has, found by the invoker's own rule."""
    for runtime in invoker.HOST_RUNTIMES:
        try:
            home = invoker._host_python(runtime[len('python'):])
        except invoker.InvokerError:
            continue
        return runtime, 'host Python %s (%s)' % (os.path.basename(home), home)
    return FALLBACK_RUNTIME, None


def compiler():
    for cc in ('cc', 'gcc', 'clang'):
        if shutil.which(cc):
            return cc
    return None


def check_machine():
    if os.geteuid() != 0:
        raise invoker.InvokerError('the sandbox needs root (mount namespaces, a loop device, chroot)')
    subprocess.run(['bash', os.path.join(HERE, 'prerequisites.sh'), '--sandbox-only'], check=True)
    runtime, where = choose_runtime()
    if where:
        print('      function runtime %s x86_64 -> %s' % (runtime, where), flush=True)
    else:
        print('      no Python %s under %s/versions: the function runs as %s on a Debian 11 root filesystem '
              '(glibc 2.31, its Python 3.9), built once with mmdebstrap (a minute or two, progress below)'
              % ('/'.join(r[len('python'):] for r in invoker.HOST_RUNTIMES), invoker.PYENV, runtime), flush=True)
    cc = compiler()
    print('      shm_redirect.so will be compiled with %s' % (
        cc if cc else 'no local C compiler found: Docker (the AL2023 build image) or synth fails naming the fix'),
        flush=True)
    return runtime


def synth(runtime, step):
    """The app's output passes through; CDK's "Bundling asset" line tells the heartbeat the app has loaded."""
    outdir = os.path.join(WORK, 'cdk.out')
    shutil.rmtree(outdir, ignore_errors=True)
    # aws-cdk-lib's own CloudFormation validation (a WebAssembly rule engine) is two thirds of this synth's
    # CPU time; demo:full and the other tests keep it.
    env = dict(os.environ, CDK_OUTDIR=outdir, CLM_DEMO_RUNTIME=runtime, CDK_VALIDATION='false')
    proc = subprocess.Popen(APP, shell=True, cwd=REPO, env=env, stderr=subprocess.PIPE, universal_newlines=True)
    for line in proc.stderr:
        sys.stderr.write(line)
        sys.stderr.flush()
        if line.startswith('Bundling asset'):
            step.doing = 'compiling shm_redirect.so for x86_64 (layer/build.sh, then layer/audit.sh)'
    if proc.wait() != 0:
        raise invoker.InvokerError('synth failed (%s)' % APP)
    return outdir


def invoke(assembly, function):
    """One function through the invoker's command line; returns its JSON record."""
    record_file = os.path.join(WORK, function + '.json')
    subprocess.run([sys.executable, os.path.join(HERE, 'invoker.py'), 'run', '--assembly', assembly,
                    '--work', WORK, '--only', '%s/%s' % (STACK, function), '--json', record_file])
    if not os.path.isfile(record_file):
        raise invoker.InvokerError('the invoker wrote no result for %s' % function)
    with open(record_file) as f:
        return json.load(f)[0]


# What each workload of examples/functions exercises, in the words of the multiprocessing docs.
WORKLOADS = {'pool_map': 'Pool.map', 'io_fanout': 'Pool I/O fan-out', 'process_pool': 'ProcessPoolExecutor',
             'queue_pipeline': 'Queue', 'shared_memory_handoff': 'SharedMemory', 'value_lock': 'Value+Lock'}


def outcome_line(record):
    if record['outcome'] == 'response':
        results = (record['payload'] or {}).get('results', {})
        return 'returned in %.2fs: %s' % (record['duration'], ', '.join(WORKLOADS.get(w, w) for w in sorted(results)))
    error = record.get('error') or {}
    return '%s: %s, from SemLock' % (error.get('errorType'), error.get('errorMessage'))


def summary(fixed, control, started):
    print('\nresult (%s %s, run on %s):' % (fixed['runtime'], fixed['arch'], fixed['platform']))
    for label, record, want in (('with the fix', fixed, 'all correct'),
                                ('without the fix', control, 'as on Lambda')):
        verdict = want if record['status'] == 'ok' else 'UNEXPECTED: ' + '; '.join(record.get('problems') or [])
        print('  %-16s %s -> %s' % (label, outcome_line(record), verdict))
    steps = ', '.join('%s %.0fs' % (what, secs) for what, secs in Step.timings)
    print('demo: done in %.0fs (%s)' % (time.monotonic() - started, steps), flush=True)


def sandbox_unavailable():
    """Why the root sandbox cannot run here, or None when it can."""
    if not sys.platform.startswith('linux'):
        return 'not Linux'
    if os.geteuid() != 0:
        return 'not root'
    if not shutil.which('unshare') or subprocess.run(['unshare', '--mount', 'true']).returncode != 0:
        return 'no mount namespaces'
    return None


def main():
    started = time.monotonic()
    os.makedirs(WORK, exist_ok=True)
    # CLM_DEMO_MODE=container|sandbox chooses; by default the sandbox where it can run, else containers.
    mode = os.environ.get('CLM_DEMO_MODE', 'auto')
    reason = sandbox_unavailable() if mode == 'auto' else None
    if mode == 'container' or reason:
        import demo_container
        try:
            status = demo_container.run(Step, WORKLOADS, reason or 'CLM_DEMO_MODE=container')
        except demo_container.DemoError as e:
            raise invoker.InvokerError(str(e))
        print('demo: done in %.0fs (%s)' % (time.monotonic() - started,
                                            ', '.join('%s %.0fs' % t for t in Step.timings)), flush=True)
        return status
    with Step(1, 'checking this machine: root, the sandbox tools, a Python for the function, a C compiler',
              'checking'):
        runtime = check_machine()
    with Step(2, 'synthesizing examples/demo.ts (TypeScript through ts-node, then shm_redirect.so compiled for '
                 'x86_64 into the layer)', 'synthesizing',
              'loading the app (ts-node, aws-cdk-lib, src/)') as step:
        assembly = synth(runtime, step)
    with Step(3, 'preparing the %s runtime: its interpreter, the runtime interface client (awslambdaric, '
                 'from PyPI into %s on first use) and the Runtime Interface Emulator (aws-lambda-rie, see '
                 'test/integration/rie.py)' % (runtime, invoker.CACHE), 'preparing the runtime'):
        invoker.runtime_client(invoker.platform_for(runtime, 'x86_64'))
        invoker.emulator('x86_64')
    with Step(4, 'invoking %s/WithFix in the Lambda-like sandbox (no /dev/shm, read-only root, /tmp on disk, '
                 'uid 993)' % STACK, 'invoking with the fix'):
        fixed = invoke(assembly, 'WithFix')
    with Step(5, 'invoking %s/WithoutFix, the same function without the layer and LD_PRELOAD' % STACK,
              'invoking without the fix'):
        control = invoke(assembly, 'WithoutFix')
    summary(fixed, control, started)
    return 0 if fixed['status'] == control['status'] == 'ok' else 1


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (invoker.InvokerError, subprocess.CalledProcessError) as e:
        print('demo: %s' % e, file=sys.stderr)
        sys.exit(2)
