"""`npx projen demo` in container mode: the same story where the root sandbox cannot run (macOS or Windows with
Docker Desktop, Linux without root), with the engine the user already has.

Synthesizes examples/demo-image.ts (the demo's function as an image function with the fix), builds its image
from the cloud assembly as `cdk deploy` does (test/integration/images/assets.py), and runs that image twice the way Lambda
runs an image (test/integration/images/lambda_container.py: no /dev/shm, read-only root, uid 993, a memory limit, AWS's
Runtime Interface Emulator inside the image): with LD_PRELOAD as synthesized, and without it.
The client is CDK_DOCKER (as for cdk-assets), else docker, else podman; the base image is AWS's
public.ecr.aws/lambda/python:3.12, pulled by the build.
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WORK = os.path.join(HERE, '.work', 'demo-container')
APP = 'npx ts-node --transpile-only --prefer-ts-exts examples/demo-image.ts'
STACK = 'MultiprocessingImageDemo'


class DemoError(Exception):
    pass


def engine():
    chosen = os.environ.get('CDK_DOCKER') or shutil.which('docker') or shutil.which('podman')
    if not chosen:
        raise DemoError('container mode needs Docker or podman (or CDK_DOCKER naming a docker-compatible client)')
    os.environ['CDK_DOCKER'] = chosen
    proc = subprocess.run([chosen, 'version'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
    if proc.returncode != 0:
        raise DemoError('%s version failed (is the engine running?):\n%s' % (chosen, proc.stdout[-1000:]))
    return chosen


def synth():
    outdir = os.path.join(WORK, 'cdk.out')
    shutil.rmtree(outdir, ignore_errors=True)
    env = dict(os.environ, CDK_OUTDIR=outdir, CDK_VALIDATION='false')
    if subprocess.run(APP, shell=True, cwd=REPO, env=env).returncode != 0:
        raise DemoError('synth failed (%s)' % APP)
    return outdir


def run(step_class, workloads, reason):
    sys.path.insert(0, os.path.join(REPO, 'test', 'integration', 'images'))
    os.makedirs(WORK, exist_ok=True)
    with step_class(1, 'checking this machine: %s, so the demo runs as containers' % reason, 'checking'):
        client = engine()
        print('      container client: %s (%s)' % (client, 'root: Lambda\'s /dev and an ext4 /tmp' if os.geteuid() == 0
              else 'not root: the engine\'s /dev without shm and a tmpfs /tmp, as faithful for glibc >= 2.34'), flush=True)
    import e2e  # noqa: E402  (after CDK_DOCKER is set: assets.py reads it)
    from assets import image_assets  # noqa: E402
    from lambda_container import LambdaContainer  # noqa: E402
    with step_class(2, 'synthesizing examples/demo-image.ts (MultiprocessingImageCode: shm_redirect.so for x86_64 '
                       'as the build context shm-redirect)', 'synthesizing'):
        assembly = synth()
    [fn] = e2e.functions_of(assembly)
    asset = image_assets(assembly)[fn.asset_id]
    with step_class(3, 'building the image as cdk deploy would (FROM public.ecr.aws/lambda/python:3.12, '
                       'COPY --from=shm-redirect /opt /opt)', 'building the image'):
        os.makedirs(os.path.join(WORK, 'build'), exist_ok=True)
        image = asset.build(os.path.join(WORK, 'build', 'build.log'))
    records = {}
    for number, label, env in ((4, 'with the fix', fn.env), (5, 'without the fix', e2e.without_preload(fn.env))):
        with step_class(number, 'invoking %s/%s %s (no /dev/shm, read-only root, uid 993, %d MB)'
                        % (STACK, fn.logical_id, label, fn.memory), 'invoking ' + label):
            work = os.path.join(WORK, label.replace(' ', '-'))
            shutil.rmtree(work, ignore_errors=True)
            container = LambdaContainer(image, work, env, fn.timeout, fn.memory, fn.image_config, name=fn.logical_id)
            try:
                container.start()
                records[label] = container.invoke({})
            finally:
                container.stop()
    return summary(records, workloads)


def summary(records, workloads):
    print('\nresult (image function, public.ecr.aws/lambda/python:3.12, x86_64, run as Lambda runs an image):')
    ok = True
    for label, want in (('with the fix', 'all correct'), ('without the fix', 'as on Lambda')):
        took, status, body = records[label]
        if isinstance(body, dict) and 'results' in body:
            line = 'returned in %.2fs: %s' % (took, ', '.join(workloads.get(w, w) for w in sorted(body['results'])))
            good = label == 'with the fix'
        elif isinstance(body, dict) and 'errorType' in body:
            line = '%s: %s' % (body['errorType'], body.get('errorMessage'))
            good = label == 'without the fix' and ('No such file' in line or 'not implemented' in line)
        else:
            line, good = 'HTTP %s: %s' % (status, str(body)[:200]), False
        ok = ok and good
        print('  %-16s %s -> %s' % (label, line, want if good else 'UNEXPECTED'))
    return 0 if ok else 1
