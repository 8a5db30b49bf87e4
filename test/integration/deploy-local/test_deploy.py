"""What deploy-local's `cdk deploy` left in the local AWS API (moto), read back with boto3: run.sh deploys
examples/publish-layers.ts (ShmRedirectLayers-us-east-1, ShmRedirectLayers-eu-west-1, Workload) and
examples/import-layers.ts (ImportBySsm, ImportByLookup, ImportByArn) first; DEPLOY_LOCAL_WORK is its work
directory (the cloud assemblies, the outputs file, cdk.context.json). boto3 reads AWS_ENDPOINT_URL."""
import glob
import hashlib
import json
import os
import re

import boto3
import pytest

WORK = os.environ["DEPLOY_LOCAL_WORK"]
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
VERSION = open(os.path.join(ROOT, "layer", "VERSION")).read().strip()
REGIONS = ["us-east-1", "eu-west-1"]
ARCHITECTURES = ["x86_64", "arm64"]
PREFIX = "/cdk-lambda-multiprocessing/shm-redirect"
PRELOAD = "/opt/lib/shm_redirect.so"
ELF_MACHINE = {62: "x86_64", 183: "arm64"}


def client(service, region="us-east-1"):
    return boto3.client(service, region_name=region)


def layer_name(architecture):
    return f"shm-redirect-{VERSION.replace('.', '_')}-{architecture}"


@pytest.fixture(scope="module")
def library_sha256():
    """sha256 of each architecture's shm_redirect.so in the cloud assembly the CLI deployed."""
    found = {}
    for library in glob.glob(os.path.join(WORK, "publish.out", "asset.*", "lib", "shm_redirect.so")):
        data = open(library, "rb").read()
        found[ELF_MACHINE[int.from_bytes(data[18:20], "little")]] = hashlib.sha256(data).hexdigest()
    assert sorted(found) == sorted(ARCHITECTURES)
    return found


@pytest.fixture(scope="module")
def published():
    """The one layer version of each region and architecture, as Lambda lists it."""
    versions = {}
    for region in REGIONS:
        for architecture in ARCHITECTURES:
            [version] = client("lambda", region).list_layer_versions(LayerName=layer_name(architecture))["LayerVersions"]
            versions[region, architecture] = version
    return versions


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_layer_version_named_described_and_licensed(region, architecture, published, library_sha256):
    version = published[region, architecture]
    assert re.fullmatch(rf"arn:aws:lambda:{region}:123456789012:layer:{layer_name(architecture)}:\d+", version["LayerVersionArn"])
    assert version["Description"].startswith(f"shm_redirect {VERSION} ({architecture}) sha256:{library_sha256[architecture]}: ")
    assert version["CompatibleArchitectures"] == [architecture]
    assert "python3.12" in version["CompatibleRuntimes"]
    assert version["LicenseInfo"] == "Apache-2.0"


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_layer_version_shared_with_the_account_and_the_organization(region, architecture, published):
    arn = published[region, architecture]["LayerVersionArn"]
    name, number = arn.split(":")[6], int(arn.split(":")[7])
    policy = json.loads(client("lambda", region).get_layer_version_policy(LayerName=name, VersionNumber=number)["Policy"])
    statements = {json.dumps(s["Principal"], sort_keys=True): s for s in policy["Statement"]}
    assert len(statements) == 2
    account = next(s for s in policy["Statement"] if "111122223333" in json.dumps(s["Principal"]))
    assert account["Action"] == "lambda:GetLayerVersion"
    organization = next(s for s in policy["Statement"] if s is not account)
    assert organization["Action"] == "lambda:GetLayerVersion"
    assert "o-a1b2c3d4e5" in json.dumps(organization["Condition"])


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_ssm_parameters_latest_and_versioned_hold_the_arn(region, architecture, published):
    ssm = client("ssm", region)
    arn = published[region, architecture]["LayerVersionArn"]
    for leaf in ["latest", VERSION]:
        assert ssm.get_parameter(Name=f"{PREFIX}/{architecture}/{leaf}")["Parameter"]["Value"] == arn


@pytest.mark.parametrize("region", REGIONS)
def test_stack_outputs_are_the_arns(region, published):
    outputs = json.load(open(os.path.join(WORK, "publish-outputs.json")))[f"ShmRedirectLayers-{region}"]
    assert sorted(outputs.values()) == sorted(published[region, a]["LayerVersionArn"] for a in ARCHITECTURES)


def functions_of(stack_name):
    """{architecture: function configuration} of the stack's two functions, and the stack's template."""
    cloudformation = client("cloudformation")
    resources = cloudformation.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    template = cloudformation.get_template(StackName=stack_name)["TemplateBody"]
    template = template if isinstance(template, dict) else json.loads(template)
    found = {}
    for resource in resources:
        if resource["ResourceType"] == "AWS::Lambda::Function":
            configuration = client("lambda").get_function_configuration(FunctionName=resource["PhysicalResourceId"])
            [architecture] = configuration["Architectures"]
            found[architecture] = (configuration, template["Resources"][resource["LogicalResourceId"]])
    assert sorted(found) == sorted(ARCHITECTURES)
    return found


@pytest.mark.parametrize("stack_name", ["Workload", "ImportBySsm", "ImportByLookup", "ImportByArn"])
def test_each_function_runs_the_layer_of_its_architecture(stack_name, published):
    for architecture, (configuration, resource) in functions_of(stack_name).items():
        assert [layer["Arn"] for layer in configuration["Layers"]] == [published["us-east-1", architecture]["LayerVersionArn"]]
        assert configuration["Environment"]["Variables"]["LD_PRELOAD"] == PRELOAD
        metadata = resource["Metadata"]["cdk-lambda-multiprocessing"]["shmRedirect"]
        assert metadata["architecture"] == architecture
        assert metadata["libraryVersion"] == VERSION


def test_the_lookup_was_made_by_the_cli_and_cached():
    context = json.load(open(os.path.join(WORK, "cdk.context.json")))
    looked_up = {k: v for k, v in context.items() if k.startswith("ssm:") and PREFIX in k}
    assert sorted(re.search(r"parameterName=([^:]+)", k).group(1) for k in looked_up) == sorted(
        f"{PREFIX}/{a}/{VERSION}" for a in ARCHITECTURES
    )
    assert all(v.startswith("arn:aws:lambda:us-east-1:123456789012:layer:shm-redirect-") for v in looked_up.values())
