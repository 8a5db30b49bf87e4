#!/usr/bin/env python3
"""The image functions of a synthesized app, end to end: each image built from the cloud assembly as `cdk
deploy` builds it (assets.py), then run as Lambda runs it (lambda_container.py) and invoked over HTTP.

With the fix (the function as synthesized, LD_PRELOAD set by the aspect): the container has no /dev/shm and no
tmpfs, a read-only root, /tmp on disk, uid 993 and the memory limit; a cold and a warm invocation (same
process) run every workload of function/app.py; an invocation past the timeout is cut off; the next one
initialises a new runtime and passes. Without the fix (the same image, LD_PRELOAD left out): every workload
fails as on Lambda, ENOENT where glibc >= 2.34, ENOSYS below.

    e2e.py --assembly DIR --arch x86_64|arm64 --work DIR [--json FILE]
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import lambda_container  # noqa: E402
from assets import image_assets  # noqa: E402
from lambda_container import LAMBDA_UID, DEVICES, LINKS, LambdaContainer  # noqa: E402

CACHE = os.environ.get('CLM_CACHE_DIR', '/var/cache/cdk-lambda-multiprocessing')
PRELOAD = '/opt/lib/shm_redirect.so'
WORKLOADS = ('Pool', 'Queue', 'SharedMemory', 'ProcessPoolExecutor', 'joblib-loky-memmap')
ENOENT, ENOSYS = 2, 38
LAMBDA_DEV = sorted(list(DEVICES) + list(LINKS))


class Function:
    def __init__(self, stack, logical_id, props):
        self.stack, self.logical_id = stack, logical_id
        self.arch = (props.get('Architectures') or ['x86_64'])[0]
        self.env = (props.get('Environment') or {}).get('Variables') or {}
        self.timeout = props.get('Timeout', 3)
        self.memory = props.get('MemorySize', 128)
        self.image_config = props.get('ImageConfig') or {}
        uri = props['Code']['ImageUri']
        text = uri['Fn::Sub'] if isinstance(uri, dict) else uri
        self.asset_id = text.rsplit(':', 1)[1]

    @property
    def name(self):
        return '%s/%s' % (self.stack, self.logical_id)


def functions_of(outdir):
    with open(os.path.join(outdir, 'manifest.json')) as f:
        artifacts = json.load(f)['artifacts']
    found = []
    for stack, artifact in sorted(artifacts.items()):
        if artifact.get('type') != 'aws:cloudformation:stack':
            continue
        with open(os.path.join(outdir, artifact['properties']['templateFile'])) as f:
            resources = json.load(f).get('Resources', {})
        for logical_id, resource in sorted(resources.items()):
            props = resource.get('Properties', {})
            if resource['Type'] == 'AWS::Lambda::Function' and props.get('PackageType') == 'Image':
                found.append(Function(stack, logical_id, props))
    return found


class Checks:
    def __init__(self, function):
        self.function, self.problems, self.lines = function, [], []

    def expect(self, ok, what):
        self.lines.append('    %s %s' % ('ok  ' if ok else 'FAIL', what))
        if not ok:
            self.problems.append(what)
        return ok


def without_preload(env):
    rest = [p for p in env.get('LD_PRELOAD', '').replace(':', ' ').split() if p != PRELOAD]
    env = dict(env)
    if rest:
        env['LD_PRELOAD'] = ' '.join(rest)
    else:
        env.pop('LD_PRELOAD', None)
    return env


def check_container(checks, container, memory):
    """What Lambda's environment looks like, seen from a shell inside the running container."""
    dev = container.exec('ls', '-A', '/dev').split()
    checks.expect(sorted(dev) == LAMBDA_DEV and 'shm' not in dev, "/dev holds only Lambda's nodes, no shm: %s" % ' '.join(dev))
    probe = container.exec('sh', '-c', 'test -e /dev/shm && echo present || echo absent').strip()
    checks.expect(probe == 'absent', '/dev/shm does not exist (%s)' % probe)
    tmpfs = container.exec('sh', '-c', 'grep " tmpfs " /proc/mounts | cut -d" " -f2').split()
    checks.expect(tmpfs == [], 'no tmpfs mounted anywhere (%s)' % (' '.join(tmpfs) or 'none'))
    tmp_fs = container.exec('stat', '-f', '-c', '%T', '/tmp').strip()
    checks.expect(tmp_fs not in ('tmpfs', 'ramfs') and container.exec(
        'sh', '-c', 'touch /tmp/.probe && rm /tmp/.probe && echo writable').strip() == 'writable',
        '/tmp writable, on disk (%s)' % tmp_fs)
    root = container.exec('sh', '-c', 'touch /var/task/.probe 2>&1 || true').strip()
    checks.expect('Read-only file system' in root, 'root file system read-only (%s)' % root)
    uid = container.exec('id', '-u').strip()
    checks.expect(uid == str(LAMBDA_UID), 'runs as uid %s' % uid)
    limit = container.inspect('{{.HostConfig.Memory}}')
    checks.expect(limit == str(memory * 1024 * 1024), 'memory limit %s bytes (%d MB)' % (limit, memory))


def workload_summary(body):
    if not isinstance(body, dict) or 'results' not in body:
        return 'no results: %s' % str(body)[:300]
    parts = []
    for name in WORKLOADS:
        r = body['results'].get(name, {})
        parts.append('%s %s' % (name, 'ok' if r.get('ok') else '%s errno %s' % (r.get('error'), r.get('errno'))))
    return ', '.join(parts)


def all_passed(body):
    return isinstance(body, dict) and all(body.get('results', {}).get(w, {}).get('ok') for w in WORKLOADS)


def with_fix(checks, fn, image, work):
    c = LambdaContainer(image, work, fn.env, fn.timeout, fn.memory, fn.image_config, name=fn.logical_id)
    record = {}
    try:
        c.start()
        check_container(checks, c, fn.memory)
        checks.expect(PRELOAD in fn.env.get('LD_PRELOAD', ''), 'LD_PRELOAD from the template: %s' % fn.env.get('LD_PRELOAD'))
        pids = []
        for label in ('cold', 'warm'):
            took, status, body = c.invoke({})
            record[label] = round(took, 2)
            checks.expect(status == 200 and all_passed(body), '%s invocation %.1fs: %s' % (label, took, workload_summary(body)))
            pids.append(body.get('init_pid') if isinstance(body, dict) else None)
        checks.expect(pids[0] is not None and pids[0] == pids[1], 'the warm invocation ran in the same runtime (pid %s, %s)' % tuple(pids))
        took, status, body = c.invoke({'sleep': fn.timeout + 2})
        record['timeout'] = round(took, 2)
        checks.expect('Task timed out after' in json.dumps(body) and took < fn.timeout + 2,
                      'an invocation past the %d s timeout is cut off after %.1fs: %s' % (fn.timeout, took, str(body)[:120]))
        took, status, body = c.invoke({})
        record['after-timeout'] = round(took, 2)
        checks.expect(status == 200 and all_passed(body), 'the next invocation %.1fs: %s' % (took, workload_summary(body)))
        new_pid = body.get('init_pid') if isinstance(body, dict) else None
        checks.expect(new_pid is not None and new_pid != pids[0], 'it ran in a new runtime (pid %s, was %s)' % (new_pid, pids[0]))
        record['glibc'] = body.get('glibc') if isinstance(body, dict) else None
    except Exception as e:  # the container's own log says more than the exception
        checks.expect(False, 'with the fix: %s\n%s' % (e, c.logs()[-3000:]))
    finally:
        if checks.problems:
            checks.lines.append('    emulator log:\n' + c.logs()[-3000:])
        c.stop()
    return record


def without_fix(checks, fn, image, work):
    c = LambdaContainer(image, work, without_preload(fn.env), fn.timeout, fn.memory, fn.image_config, name=fn.logical_id)
    record = {}
    try:
        c.start()
        probe = c.exec('sh', '-c', 'test -e /dev/shm && echo present || echo absent').strip()
        checks.expect(probe == 'absent', 'without the fix, /dev/shm does not exist either (%s)' % probe)
        took, status, body = c.invoke({})
        record['seconds'] = round(took, 2)
        glibc = body.get('glibc', '') if isinstance(body, dict) else ''
        version = tuple(int(x) for x in glibc.split()[-1].split('.')) if glibc else (0,)
        expected = ENOENT if version >= (2, 34) else ENOSYS
        results = body.get('results', {}) if isinstance(body, dict) else {}
        failed_as_lambda = all(not results.get(w, {}).get('ok', True) and results[w].get('errno') == expected
                               for w in WORKLOADS)
        checks.expect(status == 200 and failed_as_lambda, 'without the fix (%s) every workload fails with %s: %s' % (
            glibc, 'ENOENT' if expected == ENOENT else 'ENOSYS', workload_summary(body)))
        record.update(glibc=glibc, errno=expected)
    except Exception as e:
        checks.expect(False, 'without the fix: %s\n%s' % (e, c.logs()[-3000:]))
    finally:
        c.stop()
    return record


def build_or_reuse(asset, log):
    """cdk-assets skips the build of an image it already has (the asset hash covers the directory, build args
    and contexts); so does this, as long as the stand-in base images are the ones it was built on."""
    bases = lambda_container.docker('manifest', 'inspect', 'public.ecr.aws/lambda/python:3.12') + \
        lambda_container.docker('manifest', 'inspect', 'public.ecr.aws/lambda/python:3.11')
    key = hashlib.sha256(bases.encode()).hexdigest()
    marker = os.path.join(CACHE, 'images', asset.local_tag + '.bases')
    exists = lambda_container.docker('image', 'exists', asset.local_tag, check=False) == ''
    if exists and os.path.isfile(marker) and open(marker).read() == key:
        return asset.local_tag, 'cached (cdk-assets would not build it again)'
    if exists:
        lambda_container.docker('rmi', '--force', asset.local_tag)
    asset.build(log)
    os.makedirs(os.path.dirname(marker), exist_ok=True)
    with open(marker, 'w') as f:
        f.write(key)
    return asset.local_tag, 'built'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--assembly', required=True)
    parser.add_argument('--arch', required=True, choices=('x86_64', 'arm64'))
    parser.add_argument('--work', required=True)
    parser.add_argument('--json')
    args = parser.parse_args()
    assets = image_assets(args.assembly)
    functions = [f for f in functions_of(args.assembly) if f.arch == args.arch]
    if not functions:
        print('e2e: no %s image function in %s' % (args.arch, args.assembly))
        return 1
    records, failed = [], 0
    for fn in functions:
        print('=== %s (%s, timeout %d s, %d MB)' % (fn.name, fn.arch, fn.timeout, fn.memory), flush=True)
        checks = Checks(fn)
        record = {'function': fn.name, 'arch': fn.arch}
        work = os.path.join(args.work, fn.logical_id)
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        asset = assets.get(fn.asset_id)
        if checks.expect(asset is not None, 'image asset %s in the asset manifest' % fn.asset_id):
            cwd, argv = asset.build_command()
            print('    cd %s && docker %s' % (os.path.relpath(cwd, args.assembly), ' '.join(argv)), flush=True)
            started = time.monotonic()
            try:
                image, how = build_or_reuse(asset, os.path.join(work, 'build.log'))
                record['build'] = round(time.monotonic() - started, 1)
                checks.expect(True, '%s %s in %.0fs' % (how, image, record['build']))
            except Exception as e:
                image = None
                checks.expect(False, str(e))
            if image:
                record['with_fix'] = with_fix(checks, fn, image, os.path.join(work, 'with-fix'))
                record['without_fix'] = without_fix(checks, fn, image, os.path.join(work, 'without-fix'))
        print('\n'.join(checks.lines), flush=True)
        record['problems'] = checks.problems
        records.append(record)
        failed += bool(checks.problems)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(records, f, indent=1)
    print('e2e %s: %d functions, %d failed' % (args.arch, len(functions), failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
