"""The Python app's templates meet the same expectations as the TypeScript tests."""
import os
import re

import pytest
from aws_cdk.assertions import Template

import app as python_app

PRELOAD = "/opt/lib/shm_redirect.so"


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    # Code.from_asset("functions") is relative to the app's directory.
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    app = python_app.build_app(outdir=str(tmp_path_factory.mktemp("cdk.out")))
    assembly = app.synth()
    return {s.stack_name: s.template for s in assembly.stacks}


def resources(template, type_):
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def function(template, prefix):
    [fn] = [v["Properties"] for k, v in resources(template, "AWS::Lambda::Function").items() if k.startswith(prefix)]
    return fn


def test_one_layer_per_architecture_with_version_in_description(templates):
    layers = resources(templates["Workers"], "AWS::Lambda::LayerVersion")
    assert sorted(l["Properties"]["CompatibleArchitectures"][0] for l in layers.values()) == ["arm64", "x86_64"]
    for layer in layers.values():
        arch = layer["Properties"]["CompatibleArchitectures"][0]
        assert re.match(rf"^shm_redirect \d+\.\d+\.\d+ \({arch}\)", layer["Properties"]["Description"])


def test_each_function_gets_the_layer_of_its_architecture_and_ld_preload(templates):
    template = templates["Workers"]
    layer_of = {
        l["Properties"]["CompatibleArchitectures"][0]: k
        for k, l in resources(template, "AWS::Lambda::LayerVersion").items()
    }
    for prefix, arch in [("WorkersX86", "x86_64"), ("WorkersArm", "arm64")]:
        fn = function(template, prefix)
        assert fn.get("Architectures", ["x86_64"]) == [arch]
        assert fn["Layers"] == [{"Ref": layer_of[arch]}]
        assert fn["Environment"]["Variables"]["LD_PRELOAD"] == PRELOAD


def test_applied_to_one_function_only_and_existing_preload_kept(templates):
    template = templates["OneFunction"]
    Template.from_json(template).resource_count_is("AWS::Lambda::LayerVersion", 1)
    pool = function(template, "Pool")
    assert pool["Environment"]["Variables"]["LD_PRELOAD"] == f"/opt/lib/libother.so:{PRELOAD}"
    assert len(pool["Layers"]) == 1
    untouched = function(template, "Untouched")
    assert "Layers" not in untouched
    assert "Environment" not in untouched


def test_singleton_function_is_fixed_through_its_wrapper(tmp_path):
    # Exercises how the aspect finds a SingletonFunction's function on every
    # supported aws-cdk-lib (requirements-floor.txt included).
    import aws_cdk as cdk
    from aws_cdk import aws_lambda as lambda_
    from cdk_lambda_multiprocessing import MultiprocessingFix

    app = cdk.App(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Singleton")
    singleton = lambda_.SingletonFunction(
        stack, "Once",
        uuid="0c2b8a34-52e7-4c55-9a43-8f1c4e0b6a11",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
    )
    MultiprocessingFix.apply_to(singleton)
    template = app.synth().get_stack_by_name("Singleton").template
    [fn] = resources(template, "AWS::Lambda::Function").values()
    assert fn["Properties"]["Environment"]["Variables"]["LD_PRELOAD"] == PRELOAD
    assert len(fn["Properties"]["Layers"]) == 1


def test_two_synths_in_two_processes_give_the_same_layer_assets(tmp_path):
    # Each Python process unpacks the npm package into a new temporary directory (jsii): the layer's asset hash,
    # and so its S3 key, must not depend on it, nor the templates on anything else that changes between runs.
    import json
    import subprocess
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    outdirs = [tmp_path / "first", tmp_path / "second"]
    for outdir in outdirs:
        subprocess.run([sys.executable, "-c", f"import app; app.build_app(outdir={str(outdir)!r}).synth()"], cwd=here, check=True)
    first, second = ([(outdir / f"{stack}.template.json").read_text() for stack in ("Workers", "OneFunction")] for outdir in outdirs)
    assert first == second
    keys = {l["Properties"]["Content"]["S3Key"] for l in resources(json.loads(first[0]), "AWS::Lambda::LayerVersion").values()}
    assert len(keys) == 2
