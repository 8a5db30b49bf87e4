"""Runs a function's container image the way Lambda runs it, with podman as root (CDK_DOCKER, as the tests
set it: test/tools/podman/docker).

- Its own entrypoint and CMD (or the function's ImageConfig), so AWS's Runtime Interface Emulator inside the
  image serves the invocations, on port 8080 published to 127.0.0.1.
- No /dev/shm, and no tmpfs anywhere: --ipc=none drops podman's /dev/shm, but podman's /dev is a tmpfs (and so
  are its masked paths and, on cgroup v1, /sys/fs/cgroup), and glibc < 2.34 adopts the first tmpfs it finds in
  /proc/mounts as its shared memory directory. So /dev is a directory of the stage's own (read-only, holding
  Lambda's /dev: null, zero, full, random, urandom, fd, stdin, stdout, stderr), /sys/fs/cgroup an empty one,
  and the masked directories are unmasked. The host's /dev/shm is never mounted or touched.
- A read-only root with no tmpfs of podman's (--read-only-tmpfs=false); /tmp a writable directory on this
  machine's disk, kept across re-inits as Lambda keeps it.
- Lambda's unprivileged uid (993:990) and the function's memory size as the memory limit.
- The function's environment, timeout and memory size from the template, as Lambda gives them to the runtime.

Without root (the demo's container mode on Docker Desktop or rootless podman) the stage's /dev cannot be made
(mknod) nor /tmp given to uid 993 (chown): the container keeps the engine's /dev, minus /dev/shm, and gets a
tmpfs /tmp. That is faithful for glibc >= 2.34 (AWS's python3.12 image), which never adopts a tmpfs.
"""
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request

from assets import DOCKER

LAMBDA_UID, LAMBDA_GID = 993, 990
INVOKE_PATH = '/2015-03-31/functions/function/invocations'
DEVICES = {'null': 3, 'zero': 5, 'full': 7, 'random': 8, 'urandom': 9}
LINKS = {'fd': '/proc/self/fd', 'stdin': '/proc/self/fd/0', 'stdout': '/proc/self/fd/1', 'stderr': '/proc/self/fd/2'}
# Directories podman masks with a read-only tmpfs (the files it masks are bind mounts of /dev/null).
MASKED_DIRECTORIES = '/proc/acpi:/proc/scsi:/sys/firmware:/sys/fs/selinux:/sys/dev/block'


def docker(*args, check=True):
    proc = subprocess.run([DOCKER] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if check and proc.returncode != 0:
        raise RuntimeError('docker %s: exit %d\n%s' % (' '.join(args), proc.returncode, proc.stdout[-3000:]))
    return proc.stdout


def lambda_dev(directory):
    os.makedirs(directory)
    for name, minor in DEVICES.items():
        os.mknod(os.path.join(directory, name), 0o666 | 0o020000, os.makedev(1, minor))
        os.chmod(os.path.join(directory, name), 0o666)
    for name, target in LINKS.items():
        os.symlink(target, os.path.join(directory, name))


class LambdaContainer:
    def __init__(self, image, work, env, timeout, memory, image_config=None, name='function'):
        self.image, self.work, self.env = image, work, dict(env)
        self.timeout, self.memory, self.image_config = timeout, memory, image_config or {}
        self.name, self.id, self.port = name, None, None

    def start(self):
        os.makedirs(self.work, exist_ok=True)
        env = dict(self.env, AWS_LAMBDA_FUNCTION_NAME=self.name, AWS_LAMBDA_FUNCTION_VERSION='$LATEST',
                   AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(self.memory), AWS_LAMBDA_FUNCTION_TIMEOUT=str(self.timeout),
                   AWS_REGION='us-east-1', AWS_DEFAULT_REGION='us-east-1')
        argv = ['run', '--detach', '--ipc=none', '--read-only'] + self._filesystems() + [
                '--user', '%d:%d' % (LAMBDA_UID, LAMBDA_GID), '--memory', '%dm' % self.memory,
                '--memory-swap', '%dm' % self.memory, '--publish', '127.0.0.1::8080']
        for key, value in sorted(env.items()):
            argv += ['--env', '%s=%s' % (key, value)]
        if self.image_config.get('WorkingDirectory'):
            argv += ['--workdir', self.image_config['WorkingDirectory']]
        if self.image_config.get('EntryPoint'):
            argv += ['--entrypoint', json.dumps(self.image_config['EntryPoint'])]
        argv.append(self.image)
        argv += self.image_config.get('Command') or []
        self.id = docker(*argv).strip().splitlines()[-1]
        self.port = int(docker('port', self.id, '8080').strip().splitlines()[0].rsplit(':', 1)[1])
        self._wait_for_port()

    def _filesystems(self):
        podman = 'podman' in docker('--version', check=False).lower()
        argv = ['--read-only-tmpfs=false'] if podman else []
        if os.geteuid() != 0:
            return argv + ['--tmpfs', '/tmp:rw,exec,mode=1777,size=512m']
        dev, tmp, cgroup = (os.path.join(self.work, d) for d in ('dev', 'tmp', 'cgroup'))
        lambda_dev(dev)
        os.makedirs(tmp)
        os.chown(tmp, LAMBDA_UID, LAMBDA_GID)
        os.makedirs(cgroup)
        return argv + ['--volume', '%s:/dev:ro' % dev, '--volume', '%s:/tmp' % tmp,
                       '--volume', '%s:/sys/fs/cgroup:ro' % cgroup, '--security-opt', 'unmask=' + MASKED_DIRECTORIES]

    def _wait_for_port(self, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(('127.0.0.1', self.port)) == 0:
                    return
            time.sleep(0.2)
        raise RuntimeError('the emulator in %s never listened on port 8080:\n%s' % (self.name, self.logs()))

    def invoke(self, payload, seconds=None):
        """(seconds taken, status, body parsed as JSON when it is JSON)."""
        request = urllib.request.Request('http://127.0.0.1:%d%s' % (self.port, INVOKE_PATH),
                                         data=json.dumps(payload).encode(), method='POST')
        started = time.monotonic()
        for attempt in range(1, 4):
            status, body = self._post(request, seconds)
            # An invocation that arrives while the emulator still resets the previous runtime is refused at once
            # (Sandbox.Failure, ErrGateCanceled); Lambda would hold it until the environment is ready: so do we.
            refused = isinstance(body, dict) and 'ErrGateCanceled' in str(body.get('errorMessage', ''))
            if not refused or attempt == 3:
                break
            time.sleep(0.5 * attempt)
        return time.monotonic() - started, status, body

    def _post(self, request, seconds):
        try:
            with urllib.request.urlopen(request, timeout=seconds or self.timeout + 120) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors='replace')

    def exec(self, *command):
        """A command inside the running container as its user, without the function's LD_PRELOAD (so that
        it sees the container, not the library's virtual /dev/shm)."""
        return docker('exec', '--env', 'LD_PRELOAD=', self.id, *command, check=False)

    def logs(self):
        return docker('logs', self.id, check=False) if self.id else ''

    def inspect(self, template):
        return docker('inspect', '--format', template, self.id).strip()

    def stop(self):
        if self.id:
            docker('rm', '--force', self.id, check=False)
            self.id = None
