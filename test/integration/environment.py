"""One Lambda execution environment on this machine: a sandbox whose /tmp lives as long as the environment, in
which the AWS Lambda Runtime Interface Emulator (aws-lambda-rie) starts the runtime (awslambdaric), serves it
the Runtime API, takes invocations over HTTP, kills the runtime and every process it started when a function
times out or crashes, and initialises a new runtime at the next invocation, as Lambda does.

    with Environment(deployment, log_dir) as env:        # the sandbox starts; no runtime yet (init is lazy)
        first = env.invoke({'n': 1})                     # init + invocation
        again = env.invoke({'n': 2})                     # warm: the same runtime process

`runtimes=2` runs two emulators, each with its own runtime, in the one sandbox sharing one /tmp, as Lambda
Managed Instances run one runtime per concurrent request; `env.invoke(event, runtime=1)` addresses the second.
"""
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

from outcome import Outcome

SANDBOX = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'tools', 'lambda-sandbox.sh')
RIE_IN_SANDBOX = '/usr/local/bin/aws-lambda-rie'
LOG_IN_SANDBOX = '/var/log/rie'
INVOKE_PATH = '/2015-03-31/functions/function/invocations'


class EnvironmentFailed(Exception):
    """The environment could not be started or talked to; the message says what."""


class Deployment:
    """What an environment runs: a function laid out on this machine and the interpreter that stands in for its
    Lambda runtime (see invoker.deploy)."""

    def __init__(self, handler, timeout_s, env, python, rie, binds, rootfs=None, slowdown=1, user='993:990'):
        self.handler = handler            # module.function
        self.timeout_s = timeout_s        # the function's timeout, as configured
        self.env = env                    # the runtime's environment (Lambda's variables and the template's)
        self.python = python              # interpreter path inside the sandbox
        self.rie = rie                    # aws-lambda-rie binary on the host, of the function's architecture
        self.binds = binds                # sandbox --bind specs: /var/task, /opt, /var/runtime, /var/lang...
        self.rootfs = rootfs
        self.slowdown = slowdown          # qemu: timeouts are multiplied by this
        self.user = user


class Invocation:
    def __init__(self, outcome, wall_s, duration_s, init_s, logs):
        self.outcome = outcome
        self.wall_s = wall_s              # request to answer, seen by the caller
        self.duration_s = duration_s      # the emulator's: delivery to answer (see _report)
        self.init_s = init_s              # the emulator's INIT REPORT, when this invocation initialised a runtime
        self.logs = logs                  # what the emulator and the runtime wrote during this invocation


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Environment:
    def __init__(self, deployment, log_dir, runtimes=1, tmp_mib=512, timeouts=None, tmp_dir=None):
        """`timeouts`: each runtime's timeout in seconds as its emulator enforces it (default: the function's,
        times the platform's slowdown). `tmp_dir`: a host directory to use as /tmp instead of a fresh image of
        `tmp_mib` MiB, so that environments of different architectures can share one /tmp."""
        self.deployment = deployment
        self.log_dir = log_dir
        self.tmp_mib = tmp_mib
        self.tmp_dir = tmp_dir
        self.ports = [(_free_port(), _free_port()) for _ in range(runtimes)]
        self.timeouts = timeouts or [int(deployment.timeout_s * deployment.slowdown)] * runtimes
        if len(self.timeouts) != runtimes:
            raise ValueError('%d timeouts for %d runtimes' % (len(self.timeouts), runtimes))
        self.proc = None

    def log_path(self, runtime):
        return os.path.join(self.log_dir, 'runtime-%d.log' % runtime)

    def command(self):
        d = self.deployment
        os.makedirs(self.log_dir, exist_ok=True)
        os.chmod(self.log_dir, 0o777)
        tmp = ['--tmp', self.tmp_dir] if self.tmp_dir else ['--tmp-image', str(self.tmp_mib)]
        cmd = ['bash', SANDBOX] + tmp + ['--read-only', '--user', d.user,
               '--workdir', '/var/task', '--bind', '%s:%s:ro' % (d.rie, RIE_IN_SANDBOX),
               '--bind', '%s:%s' % (self.log_dir, LOG_IN_SANDBOX)]
        for bind in d.binds:
            cmd += ['--bind', bind]
        if d.rootfs:
            cmd += ['--rootfs', d.rootfs]
        # One emulator per runtime, each with its own ports, timeout and log; the shell waits for them all.
        launch = ' '.join(
            'AWS_LAMBDA_FUNCTION_TIMEOUT=%d %s --runtime-interface-emulator-address 127.0.0.1:%d '
            '--runtime-api-address 127.0.0.1:%d %s -m awslambdaric %s >%s/runtime-%d.log 2>&1 &'
            % (timeout, RIE_IN_SANDBOX, invoke_port, api_port, d.python, d.handler, LOG_IN_SANDBOX, i)
            for i, ((invoke_port, api_port), timeout) in enumerate(zip(self.ports, self.timeouts))) + ' wait'
        return cmd + ['--', '/usr/bin/env', '-i'] + ['%s=%s' % kv for kv in sorted(d.env.items())] + \
            ['/bin/sh', '-c', launch]

    def start(self, ready_s=30):
        cmd = self.command()
        for i in range(len(self.ports)):
            open(self.log_path(i), 'w').close()
            os.chmod(self.log_path(i), 0o666)  # written by the function's user
        self._sandbox_log = open(os.path.join(self.log_dir, 'sandbox.log'), 'wb')
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._sandbox_log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     env={'PATH': os.environ.get('PATH', '/usr/bin:/bin')})
        deadline = time.monotonic() + ready_s * self.deployment.slowdown
        for invoke_port, _ in self.ports:
            while True:
                if self.proc.poll() is not None:
                    raise EnvironmentFailed('the sandbox exited with status %d before the emulator listened:\n%s'
                                            % (self.proc.returncode, self._tail()))
                try:
                    socket.create_connection(('127.0.0.1', invoke_port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise EnvironmentFailed('the emulator did not listen on 127.0.0.1:%d within %ds:\n%s'
                                                % (invoke_port, ready_s, self._tail()))
                    time.sleep(0.05)
        return self

    def _tail(self):
        texts = []
        for name in sorted(os.listdir(self.log_dir)):
            with open(os.path.join(self.log_dir, name), errors='replace') as f:
                texts.append('--- %s\n%s' % (name, ''.join(f.readlines()[-20:])))
        return '\n'.join(texts)

    def invoke(self, event, runtime=0, wait_s=None):
        """Sends one event to the runtime's emulator and returns how it ended (an Invocation)."""
        log_path = self.log_path(runtime)
        before = os.path.getsize(log_path)
        started = time.monotonic()
        for attempt in range(1, 4):
            status, body = self._post(event, runtime, wait_s)
            with open(log_path, 'rb') as f:
                f.seek(before)
                logs = f.read().decode(errors='replace')
            # An invocation that arrives while the emulator still resets the previous runtime is refused at once
            # (ErrGateCanceled, Sandbox.Failure); Lambda would hold it until the environment is ready: so do we.
            if not (status == 502 and 'ErrGateCanceled' in logs) or attempt == 3:
                break
            time.sleep(0.2 * attempt)
        duration, init = _report(logs)
        return Invocation(outcome_of(status, body), time.monotonic() - started, duration, init, logs)

    def _post(self, event, runtime, wait_s):
        invoke_port = self.ports[runtime][0]
        # The emulator answers a timeout itself; this only guards against an emulator that never answers.
        limit = wait_s or self.timeouts[runtime] + 30 * self.deployment.slowdown
        request = urllib.request.Request('http://127.0.0.1:%d%s' % (invoke_port, INVOKE_PATH),
                                         data=json.dumps(event).encode(), method='POST')
        try:
            with urllib.request.urlopen(request, timeout=limit) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except OSError as e:
            raise EnvironmentFailed('invocation on 127.0.0.1:%d failed: %s\n%s' % (invoke_port, e, self._tail()))

    def close(self):
        """Ends every process of the environment; the sandbox script then unmounts /tmp and removes it."""
        if self.proc and self.proc.poll() is None:
            for pid in _session_members(self.proc.pid):
                if pid != self.proc.pid:
                    _kill(pid, signal.SIGKILL)
            self.proc.wait(timeout=60)
        if getattr(self, '_sandbox_log', None):
            self._sandbox_log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def outcome_of(status, body):
    """The emulator's answer -> an Outcome. 200: the payload, the handler's error (the runtime posted it with
    the request id), or a plain-text 'Task timed out'; 502: the runtime exited, either on its own
    (Runtime.ExitError) or after reporting an init error (the error it reported)."""
    text = body.decode(errors='replace')
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    error = data if isinstance(data, dict) and isinstance(data.get('errorType'), str) else None
    if status == 200:
        if data is None and text.startswith('Task timed out after'):
            return Outcome('timeout', error={'errorType': 'Sandbox.Timedout', 'errorMessage': text})
        if error and 'requestId' in error:
            return Outcome('error', error=error)
        return Outcome('response', payload=data if data is not None else text)
    if status == 502 and error:
        return Outcome('crash' if error['errorType'] == 'Runtime.ExitError' else 'init-error', error=error)
    return Outcome('crash', error={'errorType': 'Emulator.HTTP%d' % status, 'errorMessage': text[:2000]})


def _report(logs):
    """(duration, init) in seconds from the emulator's log of one invocation. The duration is the runtime's own
    (INVOKE RTDONE: delivery to answer) when it answered, else REPORT's (a timeout: the timeout; a crash), which
    on an invocation that initialised a runtime also counts the init."""
    answered = re.findall(r'INVOKE RTDONE\(status: \w+, produced bytes: \d+, duration: ([0-9.]+)ms\)', logs)
    reported = re.findall(r'^REPORT RequestId: \S+.*?\tDuration: ([0-9.]+) ms', logs, re.M)
    inits = re.findall(r'INIT REPORT\(durationMs: ([0-9.]+)\)', logs)
    duration = answered[-1] if answered else reported[-1] if reported else None
    return (float(duration) / 1000 if duration is not None else None,
            sum(float(x) for x in inits) / 1000 if inits else None)


def _session_members(sid):
    members = []
    for entry in os.listdir('/proc'):
        if entry.isdigit():
            try:
                with open('/proc/%s/stat' % entry) as f:
                    fields = f.read().rsplit(')', 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[3]) == sid:
                members.append(int(entry))
    return members


def _kill(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
