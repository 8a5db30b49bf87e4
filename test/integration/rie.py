"""Finds the AWS Lambda Runtime Interface Emulator (aws-lambda-rie) for an architecture.

In order: $AWS_LAMBDA_RIE (a file for the host's architecture, or a directory holding one binary per
architecture named x86_64 / arm64), `aws-lambda-rie` on PATH (host architecture only), a binary built before
into the cache, a fresh `go install` of the pinned version into the cache, and last the prebuilt copies in the
shared tools directory beside the clone (../shared/tools/aws-lambda-rie/<arch>). The binaries are static
(CGO off): they run inside other root filesystems.
"""
import os
import platform
import shutil
import subprocess
import tempfile

MODULE = 'github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie'
VERSION = 'v0.0.0-20261030222936-bef5c4ba774d'
GOARCH = {'x86_64': 'amd64', 'arm64': 'arm64'}

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SHARED = os.path.join(os.path.dirname(REPO), 'shared', 'tools', 'aws-lambda-rie')


class RieNotFound(Exception):
    pass


def host_arch():
    return {'aarch64': 'arm64', 'amd64': 'x86_64'}.get(platform.machine(), platform.machine())


def _from_env(arch):
    value = os.environ.get('AWS_LAMBDA_RIE')
    if not value:
        return None
    if os.path.isdir(value):
        path = os.path.join(value, arch)
    elif arch == host_arch():
        path = value
    else:
        return None
    if not os.access(path, os.X_OK):
        raise RieNotFound('AWS_LAMBDA_RIE=%s: %s is not an executable file' % (value, path))
    return path


def _go():
    return shutil.which('go') or next((p for p in ('/usr/local/go/bin/go', '/usr/lib/go/bin/go')
                                       if os.access(p, os.X_OK)), None)


def _go_install(arch, target, cache, log):
    """`go install MODULE@VERSION` for `arch` (static, stripped) into `target`; returns an error text or None."""
    go = _go()
    if not go:
        return 'no go toolchain (apt-get install golang-go, or https://go.dev/dl)'
    os.makedirs(os.path.dirname(target), exist_ok=True)
    gopath = tempfile.mkdtemp(prefix='.gopath-', dir=os.path.dirname(target))
    env = dict(os.environ, CGO_ENABLED='0', GOOS='linux', GOARCH=GOARCH[arch], GOPATH=gopath,
               GOMODCACHE=os.path.join(cache, 'go', 'mod'), GOCACHE=os.path.join(cache, 'go', 'build'),
               GOFLAGS='-modcacherw')
    env.pop('GOBIN', None)  # go refuses GOBIN for a cross-compiled install
    log('aws-lambda-rie: go install %s@%s for %s (once; cached in %s)' % (MODULE, VERSION, arch, target))
    try:
        proc = subprocess.run([go, 'install', '-trimpath', '-ldflags=-s -w', MODULE + '@' + VERSION], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        if proc.returncode != 0:
            return 'go install failed:\n' + proc.stdout.strip()[-2000:]
        built = [os.path.join(root, name) for root, _, names in os.walk(os.path.join(gopath, 'bin'))
                 for name in names if name == 'aws-lambda-rie']
        if len(built) != 1:
            return 'go install left %r in %s/bin' % (built, gopath)
        os.chmod(built[0], 0o755)
        os.rename(built[0], target)
        return None
    finally:
        shutil.rmtree(gopath, ignore_errors=True)


def find(arch, cache, log=print):
    """Path of an aws-lambda-rie binary for `arch` ('x86_64' or 'arm64') on this machine."""
    if arch not in GOARCH:
        raise RieNotFound('no aws-lambda-rie for architecture %r' % arch)
    path = _from_env(arch)
    if path:
        return path
    if arch == host_arch() and shutil.which('aws-lambda-rie'):
        return shutil.which('aws-lambda-rie')
    target = os.path.join(cache, 'aws-lambda-rie', VERSION, arch)
    if os.access(target, os.X_OK):
        return target
    error = _go_install(arch, target, cache, log)
    if error is None:
        return target
    prebuilt = os.path.join(SHARED, arch)
    if os.access(prebuilt, os.X_OK):
        log('aws-lambda-rie: using the prebuilt %s (%s)' % (prebuilt, error.splitlines()[0]))
        return prebuilt
    raise RieNotFound('aws-lambda-rie for %s: not in AWS_LAMBDA_RIE or PATH, %s, and no prebuilt copy at %s'
                      % (arch, error, prebuilt))
