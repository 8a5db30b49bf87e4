"""Every function of the example app, synthesized by CDK and run in the Lambda-like sandbox: the fixed ones
must return their expected results, the control ones must fail in SemLock as on Lambda. arm64 functions are
skipped (reported as not run) when CLM_SKIP_ARM64=1."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import invoker  # noqa: E402

WORK = os.path.join(invoker.HERE, '.work', 'pytest')
APP = 'npx ts-node --prefer-ts-exts examples/app.ts'

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason='the sandbox needs root')


@pytest.fixture(scope='module')
def functions():
    return invoker.synthesized_functions(APP, WORK)


@pytest.fixture(scope='module')
def fanout_url():
    with invoker.FanoutServer() as server:
        yield server.url


def example_paths():
    # The ids are the example stacks' own (examples/stacks.ts); a mismatch fails in test_every_function_is_listed.
    fixed = ['PoolMap', 'IoFanout', 'ProcessPool', 'SharedMemory', 'ValueLock', 'QueuePipeline',
             'AllPy311', 'AllPy312', 'AllPy313', 'AllPy311Arm', 'AllPy312Arm']
    return (['MultiprocessingExample/' + f for f in fixed]
            + ['MultiprocessingControl/ControlPy311', 'MultiprocessingControl/ControlPy312'])


def test_every_function_is_listed(functions):
    assert sorted(functions) == sorted(example_paths())


@pytest.mark.parametrize('path', example_paths())
def test_example_function(functions, fanout_url, path):
    spec = functions[path]
    if spec.arch == 'arm64' and os.environ.get('CLM_SKIP_ARM64') == '1':
        pytest.skip('arm64 not run (CLM_SKIP_ARM64=1)')
    assert spec.fixed == path.startswith('MultiprocessingExample/')
    result = invoker.run_function(spec, {'url': fanout_url}, WORK)
    problems = invoker.check(result, invoker.expected_results())
    assert not problems, invoker.describe(result, problems)
