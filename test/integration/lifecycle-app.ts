import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { FanOutExampleStack } from '../../examples/fan-out';
import { withMultiprocessingFix } from '../../src';

// The functions of test_lifecycle.py: one per platform the invoker runs (test/integration/lifecycle/lifecycle.py),
// and the fan-out example, whose worker test_lifecycle.py invokes through the emulator.
const app = new App();
const stack = new Stack(app, 'Lifecycle');
const { PYTHON_3_11, PYTHON_3_12 } = lambda.Runtime;
const { X86_64, ARM_64 } = lambda.Architecture;
for (const [id, runtime, architecture] of [
  ['Py312', PYTHON_3_12, X86_64],
  ['Py311', PYTHON_3_11, X86_64],
  ['Py312Arm', PYTHON_3_12, ARM_64],
] as const) {
  new lambda.Function(stack, id, {
    code: lambda.Code.fromAsset(path.join(__dirname, 'lifecycle'), { exclude: ['__pycache__', '*.pyc'] }),
    handler: 'lifecycle.handler',
    runtime,
    architecture,
    memorySize: 1769,
    timeout: Duration.seconds(2),
  });
}
withMultiprocessingFix(stack);
new FanOutExampleStack(app, 'FanOutExample');
app.synth();
