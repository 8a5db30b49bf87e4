"""How rie.py finds aws-lambda-rie: AWS_LAMBDA_RIE, PATH, the cache, go install, the prebuilt copies."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import rie  # noqa: E402


def executable(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write('#!/bin/sh\n')
    os.chmod(path, 0o755)
    return path


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """No AWS_LAMBDA_RIE, nothing on PATH, no go, an empty cache and no prebuilt copies."""
    monkeypatch.delenv('AWS_LAMBDA_RIE', raising=False)
    monkeypatch.setenv('PATH', str(tmp_path / 'bin'))
    monkeypatch.setattr(rie, '_go', lambda: None)
    monkeypatch.setattr(rie, 'SHARED', str(tmp_path / 'shared'))
    return tmp_path


def test_aws_lambda_rie_names_a_directory_per_architecture(nowhere, monkeypatch):
    for arch in ('x86_64', 'arm64'):
        executable(str(nowhere / 'rie' / arch))
    monkeypatch.setenv('AWS_LAMBDA_RIE', str(nowhere / 'rie'))
    assert rie.find('arm64', str(nowhere / 'cache')) == str(nowhere / 'rie' / 'arm64')


def test_aws_lambda_rie_as_a_file_is_the_hosts_architecture_only(nowhere, monkeypatch):
    monkeypatch.setenv('AWS_LAMBDA_RIE', executable(str(nowhere / 'my-rie')))
    other = 'arm64' if rie.host_arch() == 'x86_64' else 'x86_64'
    assert rie.find(rie.host_arch(), str(nowhere / 'cache')) == str(nowhere / 'my-rie')
    with pytest.raises(rie.RieNotFound, match='no go toolchain'):
        rie.find(other, str(nowhere / 'cache'))


def test_a_bad_aws_lambda_rie_is_a_clear_error(nowhere, monkeypatch):
    monkeypatch.setenv('AWS_LAMBDA_RIE', str(nowhere / 'missing'))
    with pytest.raises(rie.RieNotFound, match='not an executable file'):
        rie.find(rie.host_arch(), str(nowhere / 'cache'))


def test_path_then_the_cache_then_the_prebuilt_copy(nowhere):
    cache = str(nowhere / 'cache')
    prebuilt = executable(str(nowhere / 'shared' / 'arm64'))
    assert rie.find('arm64', cache) == prebuilt
    cached = executable(os.path.join(cache, 'aws-lambda-rie', rie.VERSION, 'arm64'))
    assert rie.find('arm64', cache) == cached
    on_path = executable(str(nowhere / 'bin' / 'aws-lambda-rie'))
    assert rie.find(rie.host_arch(), cache) == on_path


def test_nothing_found_says_where_it_looked(nowhere):
    with pytest.raises(rie.RieNotFound, match='no prebuilt copy at'):
        rie.find('x86_64', str(nowhere / 'cache'))
