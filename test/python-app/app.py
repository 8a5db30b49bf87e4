"""A Python CDK app using cdk-lambda-multiprocessing, synthesized by test_app.py.

The part between the python-snippet markers is the README's Python usage
(check-readme.sh keeps the two identical).
"""
import aws_cdk as cdk

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
# python-snippet:end


def build_app(outdir=None) -> cdk.App:
    app = cdk.App(outdir=outdir)
    WorkersStack(app, "Workers")
    OneFunctionStack(app, "OneFunction")
    return app


if __name__ == "__main__":
    build_app().synth()
