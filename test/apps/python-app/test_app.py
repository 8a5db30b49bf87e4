"""A CDK app's templates meet the same expectations as the TypeScript tests: app.py's, or with
--cdk-out DIR those of the Java or Go app (conftest.py)."""
import json
import os
import re
import subprocess
import sys

import pytest

PRELOAD = "/opt/lib/shm_redirect.so"


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
    assert len(resources(template, "AWS::Lambda::LayerVersion")) == 1
    pool = function(template, "Pool")
    assert pool["Environment"]["Variables"]["LD_PRELOAD"] == f"/opt/lib/libother.so:{PRELOAD}"
    assert len(pool["Layers"]) == 1
    untouched = function(template, "Untouched")
    assert "Layers" not in untouched
    assert "Environment" not in untouched


def test_singleton_function_is_fixed_through_its_wrapper(templates):
    # Exercises how the aspect finds a SingletonFunction's function on every
    # supported aws-cdk-lib (requirements-floor.txt included).
    [fn] = resources(templates["Singleton"], "AWS::Lambda::Function").values()
    assert fn["Properties"]["Environment"]["Variables"]["LD_PRELOAD"] == PRELOAD
    assert len(fn["Properties"]["Layers"]) == 1


def test_filters_select_functions(templates):
    template = templates["Filters"]
    layer_of = {
        l["Properties"]["CompatibleArchitectures"][0]: k
        for k, l in resources(template, "AWS::Lambda::LayerVersion").items()
    }
    # The default filter takes Python runtimes only.
    for prefix in ["Node", "Skipped"]:
        fn = function(template, prefix)
        assert "Layers" not in fn
        assert "Environment" not in fn
    # FunctionFilter.runtimes, and a filter written in the app's language.
    for prefix, arch in [("Custom", "arm64"), ("Picked", "x86_64")]:
        fn = function(template, prefix)
        assert fn["Layers"] == [{"Ref": layer_of[arch]}]
        assert fn["Environment"]["Variables"]["LD_PRELOAD"] == PRELOAD


def test_layers_imported_by_arn_each_function_the_one_of_its_architecture(templates):
    # ShmRedirectLayers.from_arns: no layer of its own, each function the ARN of its architecture, and the
    # library version (from the published layer's name) in its Metadata.
    template = templates["Imported"]
    assert resources(template, "AWS::Lambda::LayerVersion") == {}
    arns = {
        "x86_64": "arn:aws:lambda:eu-west-1:111122223333:layer:shm-redirect-1_0_0-x86_64:3",
        "arm64": "arn:aws:lambda:eu-west-1:111122223333:layer:shm-redirect-1_0_0-arm64:4",
    }
    fns = [v for k, v in resources(template, "AWS::Lambda::Function").items() if k.startswith("Imported")]
    assert len(fns) == 2
    for fn in fns:
        arch = fn["Properties"].get("Architectures", ["x86_64"])[0]
        assert fn["Properties"]["Layers"] == [arns[arch]]
        assert fn["Properties"]["Environment"]["Variables"]["LD_PRELOAD"] == PRELOAD
        assert fn["Metadata"]["cdk-lambda-multiprocessing"]["shmRedirect"] == {
            "libraryVersion": "1.0.0",
            "architecture": arch,
            "layer": arns[arch],
        }


def test_two_synths_in_two_processes_give_the_same_layer_assets(request, tmp_path):
    # Each Python process unpacks the npm package into a new temporary directory (jsii): the layer's asset hash,
    # and so its S3 key, must not depend on it, nor the templates on anything else that changes between runs.
    if request.config.getoption("--cdk-out"):
        pytest.skip("synthesizes app.py itself: the Python app's check, not the other languages'")
    here = os.path.dirname(os.path.abspath(__file__))
    outdirs = [tmp_path / "first", tmp_path / "second"]
    for outdir in outdirs:
        subprocess.run([sys.executable, "-c", f"import app; app.build_app(outdir={str(outdir)!r}).synth()"], cwd=here, check=True)
    first, second = ([(outdir / f"{stack}.template.json").read_text() for stack in ("Workers", "OneFunction")] for outdir in outdirs)
    assert first == second
    keys = {l["Properties"]["Content"]["S3Key"] for l in resources(json.loads(first[0]), "AWS::Lambda::LayerVersion").values()}
    assert len(keys) == 2
