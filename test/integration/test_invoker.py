"""The invoker's parts: how the emulator's answers become outcomes (a response, an error, a timeout, a crash,
an init error) with the real aws-lambda-rie and awslambdaric, the cloud assembly reader, the checks, and the
sandbox."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import environment  # noqa: E402
import invoker  # noqa: E402

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason='the sandbox needs root')


def host_platform():
    return invoker.platform_for('python3.12', 'x86_64')


HANDLERS = textwrap.dedent('''
    import os, time
    def ok(event, context):
        print('handling', event)
        return {'echo': event, 'request': context.aws_request_id}
    def fail(event, context):
        raise ValueError('bad input')
    def slow(event, context):
        print('going to sleep', flush=True)
        time.sleep(30)
    def crash(event, context):
        print('about to die', flush=True)
        os._exit(3)
''')


def run_plain(tmp_path, handler, timeout=5, extra_module=None):
    """One invocation of a handler of HANDLERS (or of `broken.py`) through the emulator, in the sandbox."""
    spec = sandboxed_spec(tmp_path, handler, timeout)
    if extra_module:
        (tmp_path / 'cdk.out' / 'asset.code' / 'broken.py').write_text(extra_module)
    res = invoker.run_function(spec, {'n': 1}, str(tmp_path / 'work'))
    return res.outcome, res.duration


@needs_root
def test_a_response_reaches_the_caller(tmp_path):
    outcome, duration = run_plain(tmp_path, 'fns.ok')
    assert outcome.kind == 'response'
    assert outcome.payload['echo'] == {'n': 1}
    assert len(outcome.payload['request']) == 36
    assert duration is not None and duration < 5


@needs_root
def test_a_raised_exception_is_an_error_with_its_type_and_trace(tmp_path):
    outcome, _ = run_plain(tmp_path, 'fns.fail')
    assert outcome.kind == 'error'
    assert outcome.error['errorType'] == 'ValueError'
    assert outcome.error['errorMessage'] == 'bad input'
    assert any('raise ValueError' in line for line in outcome.error['stackTrace'])


@needs_root
def test_a_slow_handler_times_out(tmp_path):
    outcome, duration = run_plain(tmp_path, 'fns.slow', timeout=1)
    assert outcome.kind == 'timeout'
    assert 'Task timed out after 1.00 seconds' in outcome.error['errorMessage']
    assert duration == 1


@needs_root
def test_a_runtime_that_exits_is_a_crash(tmp_path):
    outcome, _ = run_plain(tmp_path, 'fns.crash')
    assert outcome.kind == 'crash'
    assert 'exit status 3' in outcome.error['errorMessage']


@needs_root
def test_an_import_error_is_an_init_error(tmp_path):
    outcome, _ = run_plain(tmp_path, 'broken.handler', extra_module='import no_such_module\n')
    assert outcome.kind == 'init-error'
    assert outcome.error['errorType'].startswith('Runtime.ImportModuleError')


@pytest.mark.parametrize('status,body,kind', [
    (200, b'{"sum": 1}', 'response'),
    (200, b'"text"', 'response'),
    (200, b'{"errorMessage": "bad", "errorType": "ValueError", "requestId": "r", "stackTrace": []}', 'error'),
    (200, b'Task timed out after 2.00 seconds', 'timeout'),
    (502, b'{"errorType":"Runtime.ExitError","errorMessage":"RequestId: r Error: Runtime exited with error: '
          b'signal: segmentation fault"}', 'crash'),
    (502, b'{"errorMessage": "No module named x", "errorType": "Runtime.ImportModuleError"}', 'init-error'),
    (500, b'', 'crash'),
])
def test_the_emulators_answers_become_lambdas_outcomes(status, body, kind):
    assert environment.outcome_of(status, body).kind == kind


# --- the cloud assembly ---------------------------------------------------------------------------------------

def write_assembly(root, function_props, extra_resources=None):
    """A minimal cloud assembly: one stack, its asset manifest, a code asset and two layer assets."""
    root.mkdir(exist_ok=True)
    for name, files in (('asset.code', {'app.py': 'def handler(e, c):\n    return 1\n'}),
                        ('asset.layer1', {'lib/shm_redirect.so': 'first', 'python/shared.py': 'X = 1\n'}),
                        ('asset.layer2', {'python/shared.py': 'X = 2\n'})):
        for rel, text in files.items():
            p = root / name / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
    assets = {'files': {h: {'source': {'path': 'asset.' + h, 'packaging': 'zip'},
                            'destinations': {'d': {'bucketName': 'b', 'objectKey': h + '.zip'}}}
                        for h in ('code', 'layer1', 'layer2')}}
    resources = {
        'Fn': {'Type': 'AWS::Lambda::Function', 'Properties': dict({
            'Runtime': 'python3.12', 'Handler': 'app.handler', 'Code': {'S3Key': 'code.zip'},
            'Layers': [{'Ref': 'L1'}, {'Ref': 'L2'}]}, **function_props)},
        'L1': {'Type': 'AWS::Lambda::LayerVersion', 'Properties': {'Content': {'S3Key': 'layer1.zip'}}},
        'L2': {'Type': 'AWS::Lambda::LayerVersion', 'Properties': {'Content': {'S3Key': 'layer2.zip'}}},
        'NodeFn': {'Type': 'AWS::Lambda::Function', 'Properties': {'Runtime': 'nodejs20.x'}},
    }
    resources.update(extra_resources or {})
    (root / 'S.template.json').write_text(json.dumps({'Resources': resources}))
    (root / 'S.assets.json').write_text(json.dumps(assets))
    (root / 'manifest.json').write_text(json.dumps({'artifacts': {
        'S.assets': {'type': 'cdk:asset-manifest', 'properties': {'file': 'S.assets.json'}},
        'S': {'type': 'aws:cloudformation:stack', 'properties': {'templateFile': 'S.template.json'},
              'dependencies': ['S.assets'],
              'metadata': {'/S/MyFunction/Resource': [{'type': 'aws:cdk:logicalId', 'data': 'Fn'}]}},
    }}))
    return str(root)


def test_reads_python_functions_with_their_assets_and_environment(tmp_path):
    out = write_assembly(tmp_path / 'cdk.out', {
        'Environment': {'Variables': {'LD_PRELOAD': '/opt/lib/shm_redirect.so', 'A': 'b'}},
        'Architectures': ['arm64'], 'Timeout': 7, 'MemorySize': 512})
    [spec] = invoker.load_assembly(out)
    assert (spec.path, spec.runtime, spec.handler, spec.arch) == ('S/MyFunction', 'python3.12', 'app.handler', 'arm64')
    assert (spec.timeout, spec.memory, spec.env['A']) == (7, 512, 'b')
    assert [os.path.basename(p) for p, _ in spec.layers] == ['asset.layer1', 'asset.layer2']
    assert spec.fixed


def test_a_function_without_the_preload_is_not_fixed(tmp_path):
    [spec] = invoker.load_assembly(write_assembly(tmp_path / 'cdk.out', {}))
    assert not spec.fixed


def test_layers_are_unpacked_in_order_later_ones_winning(tmp_path):
    [spec] = invoker.load_assembly(write_assembly(tmp_path / 'cdk.out', {}))
    opt = tmp_path / 'opt'
    for layer in spec.layers:
        invoker.unpack(layer, str(opt))
    assert (opt / 'python' / 'shared.py').read_text() == 'X = 2\n'
    assert (opt / 'lib' / 'shm_redirect.so').read_text() == 'first'
    assert os.stat(opt / 'lib' / 'shm_redirect.so').st_mode & 0o444 == 0o444


@pytest.mark.parametrize('props, message', [
    ({'Layers': ['arn:aws:lambda:us-east-1:1:layer:x:1']}, 'not a LayerVersion of its stack'),
    ({'Environment': {'Variables': {'T': {'Ref': 'Table'}}}}, 'only CloudFormation can resolve'),
    ({'Code': {'S3Key': 'elsewhere.zip'}}, 'not an asset of this assembly'),
])
def test_what_cannot_run_locally_is_a_clear_error(tmp_path, props, message):
    out = write_assembly(tmp_path / 'cdk.out', props)
    with pytest.raises(invoker.InvokerError, match=message):
        invoker.load_assembly(out)


def test_a_directory_that_is_no_assembly_is_a_clear_error(tmp_path):
    with pytest.raises(invoker.InvokerError, match='no manifest.json'):
        invoker.load_assembly(str(tmp_path))


def test_lambda_environment_keeps_the_template_and_adds_lambdas_own(tmp_path):
    [spec] = invoker.load_assembly(write_assembly(tmp_path / 'cdk.out', {
        'Environment': {'Variables': {'LD_PRELOAD': '/opt/lib/shm_redirect.so'}}}))
    env = invoker.lambda_environment(spec, host_platform())
    assert env['LD_PRELOAD'] == '/opt/lib/shm_redirect.so'
    assert env['_HANDLER'] == 'app.handler'
    assert env['LAMBDA_TASK_ROOT'] == '/var/task'
    assert env['LD_LIBRARY_PATH'].endswith(':/opt/lib')
    assert env['AWS_EXECUTION_ENV'] == 'AWS_Lambda_python3.12'


# --- the checks ------------------------------------------------------------------------------------------------

class FakeSpec:
    def __init__(self, fixed):
        self.fixed = fixed


def result(fixed, outcome):
    return invoker.Result(FakeSpec(fixed), None, outcome, 0.1, 0.1, '')


EXPECTED = {'value_lock': {'counter': 10000}}
SEMLOCK_TRACE = ['  File "synchronize.py", line 57, in __init__\n    sl = self._semlock = _multiprocessing.SemLock(\n']


def test_a_fixed_function_must_return_the_expected_result():
    ok = invoker.Outcome('response', payload={'workload': 'value_lock', 'counter': 10000, 'python': '3.12'})
    wrong = invoker.Outcome('response', payload={'workload': 'value_lock', 'counter': 9999})
    assert invoker.check(result(True, ok), EXPECTED) == []
    assert invoker.check(result(True, wrong), EXPECTED)
    assert invoker.check(result(True, invoker.Outcome('timeout', error={'errorType': 'Sandbox.Timedout'})), EXPECTED)


def test_a_control_function_must_fail_in_semlock():
    enoent = invoker.Outcome('error', error={'errorType': 'FileNotFoundError', 'stackTrace': SEMLOCK_TRACE})
    elsewhere = invoker.Outcome('error', error={'errorType': 'FileNotFoundError', 'stackTrace': ['open()']})
    success = invoker.Outcome('response', payload={'workload': 'value_lock', 'counter': 10000})
    assert invoker.check(result(False, enoent), EXPECTED) == []
    assert invoker.check(result(False, elsewhere), EXPECTED)
    assert invoker.check(result(False, success), EXPECTED)


# --- in the sandbox --------------------------------------------------------------------------------------------

def sandboxed_spec(tmp_path, handler, timeout, module='fns'):
    out = write_assembly(tmp_path / 'cdk.out', {'Handler': handler, 'Timeout': timeout})
    (tmp_path / 'cdk.out' / 'asset.code' / (module + '.py')).write_text(HANDLERS)
    [spec] = invoker.load_assembly(out)
    return spec


@needs_root
def test_a_sandboxed_timeout_is_reported_with_logs_and_leaves_nothing_running(tmp_path):
    # A module name of this run's own: the check below looks at every process of the machine, and another
    # run of this test may be sleeping in its own fns.slow meanwhile.
    module = 'fns_%d' % os.getpid()
    spec = sandboxed_spec(tmp_path, module + '.slow', 1, module)
    res = invoker.run_function(spec, {}, str(tmp_path / 'work'))
    assert res.outcome.kind == 'timeout'
    assert 'going to sleep' in res.logs
    assert 'Task timed out' in invoker.describe(res, ['x'])
    assert 'going to sleep' in invoker.describe(res, ['x'])
    assert not [pid for pid in os.listdir('/proc') if pid.isdigit() and _runs(pid, (module + '.slow').encode())]


def _runs(pid, needle):
    try:
        with open('/proc/%s/cmdline' % pid, 'rb') as f:
            return needle in f.read()
    except OSError:
        return False


@needs_root
def test_a_sandboxed_crash_is_reported_with_the_exit_status_and_logs(tmp_path):
    spec = sandboxed_spec(tmp_path, 'fns.crash', 5)
    res = invoker.run_function(spec, {}, str(tmp_path / 'work'))
    assert res.outcome.kind == 'crash'
    assert 'exit status 3' in res.outcome.error['errorMessage']
    assert 'about to die' in res.logs


@needs_root
def test_the_sandbox_is_lambda_like(tmp_path):
    probe = textwrap.dedent('''
        import os
        def handler(event, context):
            def writable(p):
                try:
                    open(os.path.join(p, '.probe'), 'w').close()
                    return True
                except OSError:
                    return False
            return {'uid': os.getuid(), 'dev': sorted(os.listdir('/dev')), 'task': writable('/var/task'),
                    'opt': writable('/opt'), 'tmp': writable('/tmp'), 'cwd': os.getcwd(),
                    'layer': os.path.exists('/opt/python/shared.py')}
    ''')
    out = write_assembly(tmp_path / 'cdk.out', {'Handler': 'probe.handler'})
    (tmp_path / 'cdk.out' / 'asset.code' / 'probe.py').write_text(probe)
    [spec] = invoker.load_assembly(out)
    res = invoker.run_function(spec, {}, str(tmp_path / 'work'))
    assert res.outcome.kind == 'response', res.logs
    p = res.outcome.payload
    assert p['uid'] == invoker.LAMBDA_UID
    assert 'shm' not in p['dev'] and 'null' in p['dev']
    assert (p['task'], p['opt'], p['tmp']) == (False, False, True)
    assert (p['cwd'], p['layer']) == ('/var/task', True)


@needs_root
def test_a_runtime_without_its_python_here_is_not_run_and_not_a_failure(tmp_path, monkeypatch, capsys):
    out = write_assembly(tmp_path / 'cdk.out', {})
    monkeypatch.setattr(invoker, 'PYENV', str(tmp_path / 'no-pyenv'))
    records = tmp_path / 'records.json'
    assert invoker.main(['run', '--assembly', out, '--work', str(tmp_path / 'work'), '--json', str(records)]) == 0
    printed = capsys.readouterr().out
    assert 'not run S/MyFunction (python3.12 x86_64): no Python 3.12 under' in printed
    assert '0 passed, 0 failed, 1 not run' in printed
    assert json.loads(records.read_text()) == [{'path': 'S/MyFunction', 'status': 'not run'}]
