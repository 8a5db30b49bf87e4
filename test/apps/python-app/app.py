"""A Python CDK app using cdk-lambda-multiprocessing, synthesized by test_app.py.

The part between the python-snippet markers is the README's Python usage
(test/apps/readme-snippet.sh keeps the two identical).
"""
import aws_cdk as cdk
import jsii
from cdk_lambda_multiprocessing import FunctionFilter, IFunctionFilter, ShmRedirectLayers

# python-snippet:start
from aws_cdk import Stack, aws_lambda as lambda_
from cdk_lambda_multiprocessing import MultiprocessingFix
from constructs import Construct


class WorkersStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        for name, arch in [("X86", lambda_.Architecture.X86_64), ("Arm", lambda_.Architecture.ARM_64)]:
            lambda_.Function(
                self, f"Workers{name}",
                runtime=lambda_.Runtime.PYTHON_3_12,
                architecture=arch,
                handler="index.handler",
                code=lambda_.Code.from_asset("functions"),
            )
        # Every Python function in the stack: the layer of its architecture
        # and LD_PRELOAD=/opt/lib/shm_redirect.so.
        MultiprocessingFix.apply_to(self)
# python-snippet:end


class OneFunctionStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        pool = lambda_.Function(
            self, "Pool",
            runtime=lambda_.Runtime.PYTHON_3_11,
            handler="index.handler",
            code=lambda_.Code.from_asset("functions"),
            environment={"LD_PRELOAD": "/opt/lib/libother.so"},
        )
        lambda_.Function(
            self, "Untouched",
            runtime=lambda_.Runtime.PYTHON_3_11,
            handler="index.handler",
            code=lambda_.Code.from_asset("functions"),
        )
        # Only this function; an LD_PRELOAD it already has is kept.
        MultiprocessingFix.apply_to(pool)


class SingletonStack(Stack):
    """A SingletonFunction is fixed through the function it wraps."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        once = lambda_.SingletonFunction(
            self, "Once",
            uuid="0c2b8a34-52e7-4c55-9a43-8f1c4e0b6a11",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler="index.handler",
            code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
        )
        MultiprocessingFix.apply_to(once)


@jsii.implements(IFunctionFilter)
class NamedFunctions:
    """A filter written in the app's language: jsii calls back into it for each function."""

    def __init__(self, *ids: str) -> None:
        self.ids = ids

    def includes(self, fn: lambda_.Function) -> bool:
        return fn.node.id in self.ids


class FiltersStack(Stack):
    """Which functions each filter selects: the default (Python runtimes), a ready-made one and the app's own."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        node = lambda_.Function(
            self, "Node",
            runtime=lambda_.Runtime.NODEJS_LATEST,
            handler="index.handler",
            code=lambda_.Code.from_inline("exports.handler = async () => null;"),
        )
        custom = lambda_.Function(
            self, "Custom",
            runtime=lambda_.Runtime.PROVIDED_AL2023,
            architecture=lambda_.Architecture.ARM_64,
            handler="bootstrap",
            code=lambda_.Code.from_asset("functions"),
        )
        for name in ["Picked", "Skipped"]:
            lambda_.Function(
                self, name,
                runtime=lambda_.Runtime.PYTHON_3_12,
                handler="index.handler",
                code=lambda_.Code.from_inline("def handler(event, context):\n    return None\n"),
            )
        MultiprocessingFix.apply_to(node)
        MultiprocessingFix.apply_to(custom, filter=FunctionFilter.runtimes([lambda_.Runtime.PROVIDED_AL2023]))
        MultiprocessingFix.apply_to(self, filter=NamedFunctions("Picked"))


class ImportedStack(Stack):
    """Layers a platform team published (ShmRedirectLayerPublisher), imported by ARN from another account."""

    def __init__(self, scope: Construct, construct_id: str, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        for name, arch in [("X86", lambda_.Architecture.X86_64), ("Arm", lambda_.Architecture.ARM_64)]:
            lambda_.Function(
                self, f"Imported{name}",
                runtime=lambda_.Runtime.PYTHON_3_12,
                architecture=arch,
                handler="index.handler",
                code=lambda_.Code.from_asset("functions"),
            )
        layers = ShmRedirectLayers.from_arns(
            x86="arn:aws:lambda:eu-west-1:111122223333:layer:shm-redirect-1_0_0-x86_64:3",
            arm64="arn:aws:lambda:eu-west-1:111122223333:layer:shm-redirect-1_0_0-arm64:4",
        )
        MultiprocessingFix.apply_to(self, layers=layers)


def build_app(outdir=None) -> cdk.App:
    app = cdk.App(outdir=outdir)
    WorkersStack(app, "Workers")
    OneFunctionStack(app, "OneFunction")
    SingletonStack(app, "Singleton")
    FiltersStack(app, "Filters")
    ImportedStack(app, "Imported")
    return app


if __name__ == "__main__":
    build_app().synth()
