"""moto's server mode, as the deploy test's local AWS API, with four gaps of its CloudFormation filled.

moto 5.2 implements the Lambda API the test reads back, but its CloudFormation support of these resources
drops properties that CloudFormation passes on (moto/awslambda/models.py, create_from_cloudformation_json):
  1. AWS::Lambda::LayerVersion: LayerName (moto names the layer after the logical ID) and
     CompatibleArchitectures are ignored;
  2. AWS::Lambda::LayerVersion: Ref gives no ARN (moto has no physical_resource_id for it);
  3. AWS::Lambda::LayerVersionPermission: not implemented (moto skips the resource with a warning);
  4. AWS::Lambda::Function: Layers and Architectures are ignored;
and 5. a stack made by a change set (as the CDK CLI makes them) has no outputs: executing the change set
updates the stack's resources but not its outputs (moto/cloudformation/models.py, ChangeSet.apply).
Each patch below passes the property to moto's own Lambda API implementation (publish_layer_version,
add_layer_version_permission, create_function), as CloudFormation passes it to Lambda, or evaluates the
outputs as moto does for a stack made without a change set; nothing else is changed. Without them the test
fails at the read-back of what they fill.

    python moto_server.py PORT     (binds 127.0.0.1 only)
"""
import json
import sys
from typing import Any

from moto.awslambda import models as lambda_models
from moto.cloudformation.models import ChangeSet
from moto.cloudformation.parsing import OutputMap
from moto.core.common_models import CloudFormationModel
from moto.server import main

LayerVersion = lambda_models.LayerVersion
LambdaFunction = lambda_models.LambdaFunction


def create_layer_version(cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any):
    properties = cloudformation_json["Properties"]
    spec = {"Content": properties["Content"], "LayerName": properties.get("LayerName", resource_name)}
    for prop in ("Description", "CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
        if prop in properties:
            spec[prop] = properties[prop]
    return lambda_models.lambda_backends[account_id][region_name].publish_layer_version(spec)


LayerVersion.create_from_cloudformation_json = classmethod(create_layer_version)
LayerVersion.physical_resource_id = property(lambda self: self.arn)


class LayerVersionPermission(CloudFormationModel):
    """AWS::Lambda::LayerVersionPermission: one statement in the layer version's policy."""

    # moto's model registry files each model under the service its module names (moto.<service>....).
    __module__ = "moto.awslambda.models"

    def __init__(self, arn: str, statement_id: str):
        self.arn = arn
        self.statement_id = statement_id

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::LayerVersionPermission"

    @staticmethod
    def cloudformation_name_type() -> str:
        return "LayerVersionPermission"

    @property
    def physical_resource_id(self) -> str:
        return f"{self.arn}#{self.statement_id}"

    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any):
        properties = cloudformation_json["Properties"]
        arn = properties["LayerVersionArn"]
        name, version = arn.split(":")[6], int(arn.split(":")[7])
        statement = {
            "StatementId": resource_name,
            "Action": properties["Action"],
            "Principal": properties["Principal"],
        }
        if "OrganizationId" in properties:
            statement["PrincipalOrgID"] = properties["OrganizationId"]  # moto's name for it; a Condition in the policy
        lambda_models.lambda_backends[account_id][region_name].add_layer_version_permission(name, version, json.dumps(statement))
        return cls(arn, resource_name)


original_create_function = LambdaFunction.create_from_cloudformation_json.__func__


def create_function(cls, resource_name: str, cloudformation_json: dict, account_id: str, region_name: str, **kwargs: Any):
    properties = cloudformation_json["Properties"]
    fn = original_create_function(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
    if "Layers" in properties:
        fn.layers = fn._get_layers_data(properties["Layers"])  # moto's check that each layer version exists
    if "Architectures" in properties:
        fn.architectures = properties["Architectures"]
    return fn


LambdaFunction.create_from_cloudformation_json = classmethod(create_function)

original_apply = ChangeSet.apply


def apply_change_set(self) -> None:
    original_apply(self)
    self.stack.output_map = OutputMap(self.stack.resource_map, self.template_dict, self.stack.stack_id)


ChangeSet.apply = apply_change_set

if __name__ == "__main__":
    main(["-H", "127.0.0.1", "-p", sys.argv[1]])
