#!/usr/bin/env python3
"""Runs the Python functions of a synthesized CDK app the way Lambda does, without an AWS account.

cloud assembly (manifest.json, templates, asset manifests) -> each AWS::Lambda::Function: its code asset at
/var/task, its layers unpacked in order into /opt, the environment from the template plus Lambda's own ->
test/tools/lambda-sandbox.sh (Lambda's /dev without shm, read-only root, a 512 MiB ext4 /tmp, uid 993) ->
AWS's Runtime Interface Emulator (aws-lambda-rie, found by rie.py) running the real runtime interface client
(awslambdaric) there, for one invocation or a series of them in one environment (environment.py).

    invoker.py run --assembly DIR [--only SUBSTRING] [--json FILE]
    invoker.py run --app 'COMMAND' [...]        synthesizes first (COMMAND runs with CDK_OUTDIR set)
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from http.server import ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, 'examples', 'functions'))

import rie  # noqa: E402
from environment import Deployment, Environment, EnvironmentFailed  # noqa: E402
from outcome import Outcome  # noqa: E402,F401  (callers build Outcomes through the invoker)

CACHE = os.environ.get('CLM_CACHE_DIR', '/var/cache/cdk-lambda-multiprocessing')
SANDBOX = os.path.join(REPO, 'test', 'tools', 'lambda-sandbox.sh')
ENSURE_ROOTFS = os.path.join(REPO, 'test', 'tools', 'ensure-rootfs.sh')
PYENV = os.environ.get('PYENV_ROOT', '/root/.pyenv')
EXPECTED = os.path.join(REPO, 'examples', 'expected.json')
PRELOAD = '/opt/lib/shm_redirect.so'

# Lambda runs functions as sbx_user1051.
LAMBDA_UID, LAMBDA_GID = 993, 990
# Lambda's Python runtimes: AL2 ones carry glibc 2.26, AL2023 ones glibc 2.34.
AL2_RUNTIMES = ('python3.8', 'python3.9', 'python3.10', 'python3.11')
AL2023_RUNTIMES = ('python3.12', 'python3.13', 'python3.14')
# Runtimes that run on Debian forky's own interpreter of the same version (glibc 2.43, the newest at hand):
# python3.14 is the first whose default start method is forkserver, and no pyenv Python stands in for it.
FORKY_RUNTIMES = ('python3.14',)
# x86_64 functions of the other AL2023 runtimes run on this machine's own Python of that version (pyenv's; Debian
# has neither), the host's glibc standing in for AL2023's.
HOST_RUNTIMES = tuple(r for r in AL2023_RUNTIMES if r not in FORKY_RUNTIMES)


class InvokerError(Exception):
    """Something the invoker cannot do with this assembly or on this machine; the message says what."""


class MissingPython(InvokerError):
    """This machine has no interpreter for a runtime: its functions are reported as not run, not failed."""


# --- the cloud assembly ------------------------------------------------------------------------------------

class FunctionSpec:
    def __init__(self, **kw):
        self.__dict__.update(kw)

    @property
    def fixed(self):
        """Whether the function carries the fix: the preload and a layer that ships the library."""
        preload = self.env.get('LD_PRELOAD', '').replace(':', ' ').split()
        return PRELOAD in preload and any(
            os.path.exists(_asset_member(layer, 'lib/shm_redirect.so')) for layer in self.layers)


def _asset_member(asset, member):
    path, packaging = asset
    if packaging == 'zip' and os.path.isdir(path):
        return os.path.join(path, member)
    raise InvokerError('asset %s is not an unpacked directory (packaging %s)' % (path, packaging))


def load_assembly(outdir):
    manifest_path = os.path.join(outdir, 'manifest.json')
    if not os.path.isfile(manifest_path):
        raise InvokerError('%s has no manifest.json: not a cloud assembly (did the synth run?)' % outdir)
    with open(manifest_path) as f:
        manifest = json.load(f)
    artifacts = manifest.get('artifacts', {})
    functions = []
    for stack_name, artifact in sorted(artifacts.items()):
        if artifact.get('type') != 'aws:cloudformation:stack':
            continue
        with open(os.path.join(outdir, artifact['properties']['templateFile'])) as f:
            template = json.load(f)
        assets = _asset_index(outdir, artifacts, artifact)
        functions += _functions_of(stack_name, template, assets, _construct_paths(outdir, artifact))
    return functions


def _construct_paths(outdir, stack_artifact):
    """Logical id -> construct path, from the metadata the synth records (in the manifest or beside it)."""
    metadata = dict(stack_artifact.get('metadata', {}))
    extra = stack_artifact.get('additionalMetadataFile')
    if extra:
        with open(os.path.join(outdir, extra)) as f:
            metadata.update(json.load(f))
    paths = {}
    for path, entries in metadata.items():
        for entry in entries:
            if entry.get('type') == 'aws:cdk:logicalId' and isinstance(entry.get('data'), str):
                path = path.strip('/')
                paths[entry['data']] = path[:-len('/Resource')] if path.endswith('/Resource') else path
    return paths


def _asset_index(outdir, artifacts, stack_artifact):
    """Object key of each file asset -> (local path, packaging), from the stack's asset manifest."""
    index = {}
    for dep in stack_artifact.get('dependencies', []):
        dep_artifact = artifacts.get(dep, {})
        if dep_artifact.get('type') != 'cdk:asset-manifest':
            continue
        with open(os.path.join(outdir, dep_artifact['properties']['file'])) as f:
            asset_manifest = json.load(f)
        for entry in asset_manifest.get('files', {}).values():
            source = entry['source']
            if 'path' not in source:
                continue
            local = (os.path.join(outdir, source['path']), source.get('packaging', 'file'))
            for dest in entry.get('destinations', {}).values():
                index[dest['objectKey']] = local
    return index


def _s3_asset(stack, logical_id, code, assets, what):
    key = code.get('S3Key')
    if not isinstance(key, str) or key not in assets:
        raise InvokerError('%s %s/%s: its %s is not an asset of this assembly (%r)'
                           % ('resource', stack, logical_id, what, code))
    return assets[key]


def _functions_of(stack_name, template, assets, paths):
    resources = template.get('Resources', {})
    found = []
    for logical_id, res in sorted(resources.items()):
        if res.get('Type') != 'AWS::Lambda::Function':
            continue
        props = res.get('Properties', {})
        runtime = props.get('Runtime')
        if not isinstance(runtime, str) or not runtime.startswith('python'):
            continue
        path = paths.get(logical_id, '%s/%s' % (stack_name, logical_id))
        layers = []
        for ref in props.get('Layers', []):
            layer_id = ref.get('Ref') if isinstance(ref, dict) else None
            layer = resources.get(layer_id) if layer_id else None
            if not layer or layer.get('Type') != 'AWS::Lambda::LayerVersion':
                raise InvokerError('function %s: layer %r is not a LayerVersion of its stack; only layers '
                                   'synthesized in the assembly can be unpacked locally' % (path, ref))
            layers.append(_s3_asset(stack_name, layer_id, layer['Properties']['Content'], assets, 'layer'))
        env = {}
        for key, value in props.get('Environment', {}).get('Variables', {}).items():
            if not isinstance(value, str):
                raise InvokerError('function %s: environment variable %s is %r, which only CloudFormation '
                                   'can resolve' % (path, key, value))
            env[key] = value
        archs = props.get('Architectures', ['x86_64'])
        name = props.get('FunctionName')
        found.append(FunctionSpec(
            stack=stack_name, logical_id=logical_id, path=path, runtime=runtime,
            handler=props['Handler'], arch=archs[0],
            name=name if isinstance(name, str) else '%s-%s' % (stack_name, logical_id),
            timeout=int(props.get('Timeout', 3)), memory=int(props.get('MemorySize', 128)),
            env=env, code=_s3_asset(stack_name, logical_id, props['Code'], assets, 'code'),
            layers=layers))
    return found


def unpack(asset, dest):
    """Lays an asset out as Lambda would: zip assets extracted; later layers overwrite earlier ones."""
    path, packaging = asset
    if packaging != 'zip':
        raise InvokerError('asset %s has packaging %r; Lambda code and layers are zip assets' % (path, packaging))
    if os.path.isdir(path):
        shutil.copytree(path, dest, symlinks=True, dirs_exist_ok=True)
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            z.extractall(dest)
    else:
        raise InvokerError('asset %s is neither a directory nor a zip file' % path)
    # Lambda's files are readable by the function's user whatever their mode in the zip.
    for root, dirs, files in os.walk(dest):
        for name in dirs + files:
            p = os.path.join(root, name)
            if not os.path.islink(p):
                mode = os.stat(p).st_mode
                os.chmod(p, mode | 0o444 | (0o111 if mode & 0o111 or os.path.isdir(p) else 0))
    os.chmod(dest, 0o755)


# --- where a runtime runs here ------------------------------------------------------------------------------

class Platform:
    """The interpreter and filesystem that stand in for a Lambda runtime on this machine."""

    def __init__(self, description, python, python_version, arch, rootfs=None, lang_dir=None, emulated=False):
        self.description = description
        self.python = python              # path inside the sandbox
        self.python_version = python_version
        self.arch = arch                  # 'x86_64' or 'aarch64', as in wheel tags
        self.rootfs = rootfs
        self.lang_dir = lang_dir          # host directory bound at /var/lang
        self.emulated = emulated


def _host_python(minor):
    candidates = sorted(glob.glob(os.path.join(PYENV, 'versions', minor + '.*')),
                        key=lambda p: [int(x) for x in os.path.basename(p).split('.') if x.isdigit()])
    candidates = [c for c in candidates if os.path.isfile(os.path.join(c, 'bin', 'python3'))]
    if not candidates:
        raise MissingPython('no Python %s under %s/versions (install it with pyenv)' % (minor, PYENV))
    return candidates[-1]


def missing_host_pythons():
    """The Python versions of HOST_RUNTIMES this machine lacks."""
    missing = []
    for runtime in HOST_RUNTIMES:
        try:
            _host_python(runtime[len('python'):])
        except MissingPython:
            missing.append(runtime[len('python'):])
    return missing


def _rootfs(name):
    if not os.path.isfile(ENSURE_ROOTFS):
        raise InvokerError('%s is missing' % ENSURE_ROOTFS)
    # Its progress (a first build takes minutes) goes to our stderr as it happens; stdout is the path.
    proc = subprocess.run(['bash', ENSURE_ROOTFS, name], stdout=subprocess.PIPE, universal_newlines=True)
    if proc.returncode != 0:
        raise InvokerError('root filesystem %s could not be had (test/tools/ensure-rootfs.sh said why, above)' % name)
    return proc.stdout.strip()


def _rootfs_python(root):
    target = os.readlink(os.path.join(root, 'usr', 'bin', 'python3'))
    return os.path.basename(target).replace('python', '')


def platform_for(runtime, arch):
    """Maps a Lambda runtime and architecture onto what this machine has (see docs/integration.md)."""
    if runtime not in AL2_RUNTIMES + AL2023_RUNTIMES:
        raise InvokerError('runtime %s is not one the invoker knows' % runtime)
    al2 = runtime in AL2_RUNTIMES
    if arch not in ('x86_64', 'arm64'):
        raise InvokerError('architecture %s is not one Lambda has' % arch)
    if runtime in FORKY_RUNTIMES:
        name = 'forky-' + ('amd64' if arch == 'x86_64' else 'arm64')
        root = _rootfs(name)
        version = runtime[len('python'):]
        if not os.path.isfile(os.path.join(root, 'usr', 'bin', runtime)):
            raise InvokerError('root filesystem %s has no /usr/bin/%s' % (name, runtime))
        return Platform('Debian %s rootfs, Python %s, glibc 2.43%s' % (
            name, version, ', under qemu' if arch == 'arm64' else ''),
            '/usr/bin/' + runtime, version, 'x86_64' if arch == 'x86_64' else 'aarch64', rootfs=root,
            emulated=arch == 'arm64')
    if arch == 'x86_64' and not al2:
        home = _host_python(runtime[len('python'):])
        version = os.path.basename(home)
        return Platform('host Python %s, glibc %s' % (version, _host_glibc()), '/var/lang/bin/python3',
                        '.'.join(version.split('.')[:2]), 'x86_64', lang_dir=home)
    name = ('bullseye' if al2 else 'bookworm') + '-' + ('amd64' if arch == 'x86_64' else 'arm64')
    root = _rootfs(name)
    version = _rootfs_python(root)
    return Platform('Debian %s rootfs, Python %s, glibc %s%s' % (
        name, version, '2.31' if al2 else '2.36', ', under qemu' if arch == 'arm64' else ''),
        '/usr/bin/python3', version, 'x86_64' if arch == 'x86_64' else 'aarch64', rootfs=root,
        emulated=arch == 'arm64')


def _host_glibc():
    return os.confstr('CS_GNU_LIBC_VERSION').split()[-1]


def runtime_client(platform):
    """awslambdaric for this Python and machine, installed once from PyPI into the cache."""
    target = os.path.join(CACHE, 'awslambdaric', 'py%s-%s' % (platform.python_version, platform.arch))
    if os.path.isdir(os.path.join(target, 'awslambdaric')):
        return target
    os.makedirs(os.path.dirname(target), exist_ok=True)
    staging = tempfile.mkdtemp(prefix='.awslambdaric-', dir=os.path.dirname(target))
    cmd = [sys.executable, '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--target',
           staging, '--platform', 'manylinux2014_' + platform.arch, '--python-version',
           platform.python_version, '--implementation', 'cp', '--only-binary=:all:', 'awslambdaric<5']
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if proc.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        raise InvokerError('pip could not install awslambdaric for Python %s on %s:\n%s'
                           % (platform.python_version, platform.arch, proc.stdout))
    for root, dirs, files in os.walk(staging):
        for name in dirs + files:
            os.chmod(os.path.join(root, name), 0o755 if name in dirs else 0o644)
    os.chmod(staging, 0o755)
    try:
        os.rename(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)  # another run won the race; its copy is as good
    return target


# --- running one function -----------------------------------------------------------------------------------

class Result:
    def __init__(self, spec, platform, outcome, duration, init_duration, logs):
        self.spec, self.platform, self.outcome = spec, platform, outcome
        self.duration, self.init_duration, self.logs = duration, init_duration, logs


def lambda_environment(spec, platform):
    env = {
        'AWS_LAMBDA_FUNCTION_NAME': spec.name,
        'AWS_LAMBDA_FUNCTION_VERSION': '$LATEST',
        'AWS_LAMBDA_FUNCTION_MEMORY_SIZE': str(spec.memory),
        'AWS_LAMBDA_LOG_GROUP_NAME': '/aws/lambda/' + spec.name,
        'AWS_LAMBDA_LOG_STREAM_NAME': 'local/[$LATEST]0',
        'AWS_LAMBDA_INITIALIZATION_TYPE': 'on-demand',
        'AWS_EXECUTION_ENV': 'AWS_Lambda_' + spec.runtime,
        'AWS_REGION': 'us-east-1',
        'AWS_DEFAULT_REGION': 'us-east-1',
        'LAMBDA_TASK_ROOT': '/var/task',
        'LAMBDA_RUNTIME_DIR': '/var/runtime',
        'LANG': 'en_US.UTF-8',
        'TZ': ':UTC',
        'PATH': '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
        'LD_LIBRARY_PATH': '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:'
                           '/var/task/lib:/opt/lib',
        # Lambda's bootstrap puts these on sys.path itself; `python -m awslambdaric` needs them spelled out.
        'PYTHONPATH': '/var/task:/opt/python/lib/python%s/site-packages:/opt/python:/var/runtime'
                      % platform.python_version,
    }
    env.update(spec.env)
    env['_HANDLER'] = spec.handler
    return env


def emulator(arch, log=print):
    """aws-lambda-rie for `arch` on this machine (found or built once: see rie.py)."""
    try:
        return rie.find(arch, CACHE, log=log)
    except rie.RieNotFound as e:
        raise InvokerError(str(e))


def deploy(spec, work_dir, platform=None, log=print):
    """Lays the function out under `work_dir` (its code at /var/task, its layers in /opt) and returns the
    Deployment that environment.Environment runs, the platform that stands in for its runtime, and the
    function's directory."""
    platform = platform or platform_for(spec.runtime, spec.arch)
    ric_dir = runtime_client(platform)
    rie_binary = emulator(spec.arch, log)
    fn_dir = os.path.join(work_dir, spec.path.replace('/', '_'))
    shutil.rmtree(fn_dir, ignore_errors=True)
    task_dir, opt_dir = os.path.join(fn_dir, 'task'), os.path.join(fn_dir, 'opt')
    unpack(spec.code, task_dir)
    os.makedirs(opt_dir)
    for layer in spec.layers:
        unpack(layer, opt_dir)
    binds = [task_dir + ':/var/task:ro', opt_dir + ':/opt:ro', ric_dir + ':/var/runtime:ro']
    if platform.lang_dir:
        binds.append(platform.lang_dir + ':/var/lang:ro')
    # qemu makes an arm64 interpreter several times slower to start and to run.
    deployment = Deployment(spec.handler, spec.timeout, lambda_environment(spec, platform), platform.python,
                            rie_binary, binds, rootfs=platform.rootfs, slowdown=8 if platform.emulated else 1,
                            user='%d:%d' % (LAMBDA_UID, LAMBDA_GID))
    return deployment, platform, fn_dir


def environment(spec, work_dir, runtimes=1, platform=None, log=print, env=None, **options):
    """One execution environment of the function, for a series of invocations (see environment.py):

        with invoker.environment(spec, work) as env:
            env.invoke(event_1); env.invoke(event_2)

    `env` adds variables to the function's environment; `options` go to Environment (timeouts, tmp_mib). The
    returned Environment also carries `platform`, the interpreter and filesystem that run it here."""
    deployment, platform, fn_dir = deploy(spec, work_dir, platform, log)
    deployment.env.update(env or {})
    execution_environment = Environment(deployment, os.path.join(fn_dir, 'logs'), runtimes=runtimes, **options)
    execution_environment.platform = platform
    return execution_environment


def run_function(spec, event, work_dir, platform=None):
    """One cold invocation in a fresh environment, as the demo and the example tests run each function."""
    with environment(spec, work_dir, platform=platform) as env:
        inv = env.invoke(event)
    return Result(spec, env.platform, inv.outcome, inv.duration_s, inv.init_s, inv.logs)


# --- what each function must do ---------------------------------------------------------------------------

def expected_results():
    with open(EXPECTED) as f:
        return json.load(f)


def _contains(actual, expected):
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _contains(actual[k], v) for k, v in expected.items())
    return actual == expected


def check(result, expected):
    """Returns a list of problems; empty when the function behaved as it must here."""
    outcome, spec = result.outcome, result.spec
    if spec.fixed:
        if outcome.kind != 'response':
            return ['expected a result, got %s: %s' % (outcome.kind, _error_line(outcome.error))]
        payload = outcome.payload
        workload = payload.get('workload') if isinstance(payload, dict) else None
        if workload == 'all':
            want = {'results': expected}
        elif workload in expected:
            want = expected[workload]
        else:
            return ['the result names no known workload: %r' % (payload,)]
        return [] if _contains(payload, want) else ['expected %s to contain %s' % (
            json.dumps(payload, sort_keys=True), json.dumps(want, sort_keys=True))]
    # Without the fix, the first SemLock fails as on Lambda: ENOENT for /dev/shm on glibc >= 2.34,
    # ENOSYS (no tmpfs to use as the shm directory) before.
    if outcome.kind != 'error':
        return ['expected the function without the fix to fail, got %s: %s' % (
            outcome.kind, json.dumps(outcome.payload) if outcome.kind == 'response' else _error_line(outcome.error))]
    error = outcome.error or {}
    trace = ''.join(error.get('stackTrace') or [])
    problems = []
    if error.get('errorType') not in ('FileNotFoundError', 'OSError'):
        problems.append('expected FileNotFoundError or OSError, got %s' % _error_line(error))
    if 'SemLock' not in trace:
        problems.append('expected the error to come from SemLock; trace:\n' + trace)
    return problems


def _error_line(error):
    error = error or {}
    return '%s: %s' % (error.get('errorType', '?'), error.get('errorMessage', ''))


# --- the local server for the I/O fan-out ------------------------------------------------------------------

class FanoutServer:
    """The slow backend of io_fanout, on 127.0.0.1 (the sandbox shares the host's network)."""

    def __init__(self):
        from io_fanout import SquareHandler
        self.server = ThreadingHTTPServer(('127.0.0.1', 0), SquareHandler)
        self.server.daemon_threads = True
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


# --- the command line ------------------------------------------------------------------------------------

def synth(app_command, outdir):
    shutil.rmtree(outdir, ignore_errors=True)
    env = dict(os.environ, CDK_OUTDIR=outdir)
    proc = subprocess.run(app_command, shell=True, cwd=REPO, env=env)
    if proc.returncode != 0:
        raise InvokerError('synth failed (%s exited with %d)' % (app_command, proc.returncode))


def synthesized_functions(app_command, work_dir):
    """The app's Python functions by construct path, synthesized into WORK_DIR/cdk.out."""
    outdir = os.path.join(work_dir, 'cdk.out')
    synth(app_command, outdir)
    return {spec.path: spec for spec in load_assembly(outdir)}


def describe(result, problems):
    spec, outcome = result.spec, result.outcome
    status = 'ok' if not problems else 'FAILED'
    timing = 'init %s, duration %s' % (_seconds(result.init_duration), _seconds(result.duration))
    head = '%-6s %s (%s %s, %s) on %s; %s' % (status, spec.path, spec.runtime, spec.arch,
                                              'with fix' if spec.fixed else 'WITHOUT fix, must fail',
                                              result.platform.description, timing)
    if outcome.kind == 'response':
        lines = [head] + ['       ' + line for line in _summary(outcome.payload)]
    else:
        lines = [head, '       %s -> %s' % (outcome.kind, _error_line(outcome.error))]
        frames = [f.strip() for f in (outcome.error or {}).get('stackTrace') or []]
        if frames:
            lines.append('       raised at: ' + ' '.join(frames[-1].split()))
    lines += ['       problem: ' + p for p in problems]
    if problems or outcome.kind in ('timeout', 'crash', 'init-error'):
        lines += ['       logs:'] + ['         | ' + line for line in result.logs.splitlines()[-40:]]
    return '\n'.join(lines)


def _summary(payload):
    """One line per workload: `workload: key=value ...`, long digests cut short."""
    if not isinstance(payload, dict) or 'workload' not in payload:
        return [json.dumps(payload, sort_keys=True)]

    def pairs(d):
        return ' '.join('%s=%s' % (k, (v[:12] + '...') if isinstance(v, str) and len(v) > 16 else json.dumps(v))
                        for k, v in sorted(d.items()) if k not in ('workload', 'python', 'machine', 'libc'))
    where = 'ran on Python %s, %s, %s' % (payload.get('python'), payload.get('libc'), payload.get('machine'))
    if payload['workload'] == 'all':
        return ['%s: %s' % (name, pairs(r)) for name, r in sorted(payload.get('results', {}).items())] + [where]
    return ['%s: %s' % (payload['workload'], pairs(payload)), where]


def _seconds(value):
    return '-' if value is None else '%.2fs' % value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest='command', required=True)
    run = sub.add_parser('run', help='invoke every Python function of a cloud assembly and check its result')
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument('--assembly', help='an existing cloud assembly directory (cdk.out)')
    source.add_argument('--app', help='a command that synthesizes the app into $CDK_OUTDIR')
    run.add_argument('--work', default=os.path.join(HERE, '.work'), help='scratch directory (default: %(default)s)')
    run.add_argument('--only', action='append', default=[], help='run only functions whose path contains this')
    run.add_argument('--skip-arch', action='append', default=[], choices=['x86_64', 'arm64'],
                     help='report functions of this architecture as not run')
    run.add_argument('--json', help='write the results to this file')
    sub.add_parser('pythons', help='fail, saying how to install them, unless every Python of HOST_RUNTIMES is here')
    args = parser.parse_args(argv)

    if args.command == 'pythons':
        missing = missing_host_pythons()
        if missing:
            raise InvokerError('no Python %s under %s/versions: the x86_64 functions of %s run on this machine\'s '
                               'own Python of that version; install it first (`pyenv install %s`), or set PYENV_ROOT '
                               'to a directory with versions/%s.N/bin/python3'
                               % (' or '.join(missing), PYENV, ' and '.join('python' + m for m in missing),
                                  ' '.join(missing), missing[0]))
        return 0

    if os.geteuid() != 0:
        raise InvokerError('the sandbox needs root (mount namespaces, loop devices, chroot)')
    os.makedirs(args.work, exist_ok=True)
    assembly = args.assembly
    if args.app:
        assembly = os.path.join(args.work, 'cdk.out')
        started = time.monotonic()
        print('synthesizing: %s' % args.app, flush=True)
        synth(args.app, assembly)
        print('synthesized %s in %.1fs' % (assembly, time.monotonic() - started), flush=True)
    specs = load_assembly(assembly)
    if args.only:
        specs = [s for s in specs if any(o in s.path for o in args.only)]
    if not specs:
        raise InvokerError('no Python function in %s matches' % assembly)
    specs.sort(key=lambda s: not s.fixed)
    expected = expected_results()
    failures, records = 0, []
    with FanoutServer() as server:
        for number, spec in enumerate(specs, 1):
            if len(specs) > 1:
                print('[%d/%d] %s (%s %s) ...' % (number, len(specs), spec.path, spec.runtime, spec.arch), flush=True)
            if spec.arch in args.skip_arch:
                print('not run %s (%s %s): --skip-arch %s' % (spec.path, spec.runtime, spec.arch, spec.arch),
                      flush=True)
                records.append({'path': spec.path, 'status': 'not run'})
                continue
            try:
                platform = platform_for(spec.runtime, spec.arch)
            except MissingPython as e:
                print('not run %s (%s %s): %s' % (spec.path, spec.runtime, spec.arch, e), flush=True)
                records.append({'path': spec.path, 'status': 'not run'})
                continue
            result = run_function(spec, {'url': server.url}, args.work, platform)
            problems = check(result, expected)
            failures += bool(problems)
            print(describe(result, problems), flush=True)
            records.append({'path': spec.path, 'runtime': spec.runtime, 'arch': spec.arch, 'fixed': spec.fixed,
                            'platform': result.platform.description, 'status': 'failed' if problems else 'ok',
                            'outcome': result.outcome.kind, 'payload': result.outcome.payload,
                            'error': result.outcome.error, 'duration': result.duration,
                            'init_duration': result.init_duration, 'problems': problems})
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(records, f, indent=2)
    ran = [r for r in records if r['status'] != 'not run']
    print('%d passed, %d failed' % (len(ran) - failures, failures)
          + (', %d not run' % (len(records) - len(ran)) if len(records) > len(ran) else ''))
    return 1 if failures else 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except (InvokerError, EnvironmentFailed) as e:
        print('invoker: %s' % e, file=sys.stderr)
        sys.exit(2)
