"""assets.py makes cdk-assets' `docker build` command line, and refuses what podman cannot take the same way."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from assets import ImageAsset, UnmappableAsset  # noqa: E402


def command(source):
    return ImageAsset('AbC123', source, '/out').build_command()


def test_every_field_in_cdk_assets_order():
    cwd, argv = command({
        'directory': 'asset.abc', 'dockerFile': 'Dockerfile.x', 'dockerBuildTarget': 'fn',
        'dockerBuildArgs': {'A': '1', 'B': '2'}, 'dockerBuildContexts': {'shm-redirect': '../asset.lib'},
        'dockerBuildSecrets': {'token': 'src=/s'}, 'dockerBuildSsh': 'default', 'networkMode': 'host',
        'platform': 'linux/arm64', 'dockerOutputs': ['type=local,dest=o'], 'cacheDisabled': True})
    assert cwd == '/out/asset.abc'
    assert argv == ['build', '--build-arg', 'A=1', '--build-arg', 'B=2', '--build-context', 'shm-redirect=../asset.lib',
                    '--secret', 'id=token,src=/s', '--ssh', 'default', '--tag', 'cdkasset-abc123', '--target', 'fn',
                    '--file', 'Dockerfile.x', '--network', 'host', '--platform', 'linux/arm64',
                    '--output=type=local,dest=o', '--no-cache', '.']


def test_a_plain_directory_is_a_plain_build():
    assert command({'directory': 'asset.abc'}) == ('/out/asset.abc', ['build', '--tag', 'cdkasset-abc123', '.'])


@pytest.mark.parametrize('field', ['cacheFrom', 'cacheTo'])
def test_cache_backends_are_refused(field):
    with pytest.raises(UnmappableAsset, match='%s.*bare repository' % field):
        command({'directory': 'asset.abc', field: {'type': 'registry', 'params': {'ref': 'r'}}})


def test_an_executable_asset_is_refused():
    with pytest.raises(UnmappableAsset, match='made by a command'):
        command({'executable': ['sh', 'build.sh']})
