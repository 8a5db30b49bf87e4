"""Builds the container image assets of a cloud assembly the way `cdk deploy` does.

cdk-assets (inside the cdk CLI) reads each stack's *.assets.json and, for every dockerImages entry, runs
`docker build` in the entry's directory with the flags below, in this order (aws-cdk's Docker.build), with
the client CDK_DOCKER names (default docker), as this module does; the tests set it to the project's podman
(test/tools/podman/docker). podman 4.3 understands
every flag cdk-assets passes except the cache backends: cdk-assets writes `--cache-from type=...,ref=...`, and
podman's --cache-from/--cache-to take a bare repository, so an asset with cacheFrom or cacheTo is refused with
an error instead of being built differently. An asset made by an external command (`executable`) is not a
Dockerfile build and is refused too.
"""
import json
import os
import subprocess

DOCKER = os.environ.get('CDK_DOCKER', 'docker')


class UnmappableAsset(Exception):
    pass


class ImageAsset:
    def __init__(self, asset_id, source, manifest_dir):
        self.id, self.source, self.manifest_dir = asset_id, source, manifest_dir

    @property
    def local_tag(self):
        # cdk-assets' name for the image it builds before it tags and pushes it.
        return 'cdkasset-' + self.id.lower()

    def build_command(self):
        """(cwd, argv after `docker`) exactly as cdk-assets builds this asset."""
        s = self.source
        if 'directory' not in s:
            raise UnmappableAsset('asset %s is made by a command (%s), not by a Dockerfile build'
                                  % (self.id, s.get('executable')))
        for unmapped in ('cacheFrom', 'cacheTo'):
            if unmapped in s:
                raise UnmappableAsset('asset %s has %s (%r): podman takes a bare repository there, not '
                                      "cdk-assets' type=...,ref=... options" % (self.id, unmapped, s[unmapped]))
        argv = ['build']
        for key, value in (s.get('dockerBuildArgs') or {}).items():
            argv += ['--build-arg', '%s=%s' % (key, value)]
        for key, value in (s.get('dockerBuildContexts') or {}).items():
            argv += ['--build-context', '%s=%s' % (key, value)]
        for key, value in (s.get('dockerBuildSecrets') or {}).items():
            argv += ['--secret', 'id=%s,%s' % (key, value)]
        if s.get('dockerBuildSsh'):
            argv += ['--ssh', s['dockerBuildSsh']]
        argv += ['--tag', self.local_tag]
        if s.get('dockerBuildTarget'):
            argv += ['--target', s['dockerBuildTarget']]
        if s.get('dockerFile'):
            argv += ['--file', s['dockerFile']]
        if s.get('networkMode'):
            argv += ['--network', s['networkMode']]
        if s.get('platform'):
            argv += ['--platform', s['platform']]
        for output in s.get('dockerOutputs') or []:
            argv.append('--output=' + output)
        if s.get('cacheDisabled'):
            argv.append('--no-cache')
        argv.append('.')
        return os.path.join(self.manifest_dir, s['directory']), argv

    def build(self, log):
        cwd, argv = self.build_command()
        with open(log, 'w') as out:
            out.write('cd %s && docker %s\n' % (cwd, ' '.join(argv)))
            out.flush()
            proc = subprocess.run([DOCKER] + argv, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            with open(log) as f:
                tail = f.read()[-3000:]
            raise RuntimeError('building asset %s failed (exit %d; log %s):\n%s' % (self.id, proc.returncode, log, tail))
        return self.local_tag


def image_assets(outdir):
    """Every dockerImages entry of every asset manifest in the cloud assembly, by asset id."""
    with open(os.path.join(outdir, 'manifest.json')) as f:
        manifest = json.load(f)
    assets = {}
    for artifact in manifest.get('artifacts', {}).values():
        if artifact.get('type') != 'cdk:asset-manifest':
            continue
        path = os.path.join(outdir, artifact['properties']['file'])
        with open(path) as f:
            entries = json.load(f).get('dockerImages', {})
        for asset_id, entry in entries.items():
            assets[asset_id] = ImageAsset(asset_id, entry['source'], os.path.dirname(path))
    return assets
