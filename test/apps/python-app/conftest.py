"""Where test_app.py's templates come from: app.py synthesized here, or with --cdk-out DIR the cloud
assembly another language's app (test/apps/java-app, test/apps/go-app) wrote, which holds the same stacks."""
import glob
import json
import os

import pytest


def pytest_addoption(parser):
    parser.addoption("--cdk-out", metavar="DIR", help="check the templates in this cloud assembly instead of app.py's")


@pytest.fixture(scope="module")
def templates(request, tmp_path_factory):
    cdk_out = request.config.getoption("--cdk-out")
    if cdk_out:
        paths = glob.glob(os.path.join(cdk_out, "*.template.json"))
        if not paths:
            pytest.fail(f"no *.template.json in {cdk_out}: did the app synthesize?")
        found = {}
        for path in paths:
            with open(path) as f:
                found[os.path.basename(path)[: -len(".template.json")]] = json.load(f)
        return found
    import app as python_app

    # Code.from_asset("functions") is relative to the app's directory.
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    app = python_app.build_app(outdir=str(tmp_path_factory.mktemp("cdk.out")))
    assembly = app.synth()
    return {s.stack_name: s.template for s in assembly.stacks}
