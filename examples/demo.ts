import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { withMultiprocessingFix } from '../src';

// The app of `npx projen demo` (test/integration/demo.py): one Python function twice, with and without the fix.
// Both are x86_64, so that synth needs no cross compiler and the run no arm64 root filesystem; the runtime
// is one whose interpreter this machine has (CLM_DEMO_RUNTIME, chosen by demo.py).
const runtimeName = process.env.CLM_DEMO_RUNTIME ?? 'python3.12';
const runtime = lambda.Runtime.ALL.find((r) => r.name === runtimeName && r.family === lambda.RuntimeFamily.PYTHON);
if (runtime === undefined) {
  throw new Error(`CLM_DEMO_RUNTIME=${runtimeName} is not a Python runtime of this aws-cdk-lib`);
}

const app = new App();
const stack = new Stack(app, 'MultiprocessingDemo');
const props: lambda.FunctionProps = {
  runtime,
  // Every workload of examples/functions in one invocation: Pool.map, Queue, SharedMemory, Value and Lock,
  // ProcessPoolExecutor, an I/O fan-out.
  handler: 'all_workloads.handler',
  code: lambda.Code.fromAsset(path.join(__dirname, 'functions'), { exclude: ['__pycache__', '*.pyc'] }),
  // Lambda gives a function CPU in proportion to its memory; 1769 MB is one full vCPU.
  memorySize: 1769,
  timeout: Duration.seconds(60),
};
const withFix = new lambda.Function(stack, 'WithFix', props);
new lambda.Function(stack, 'WithoutFix', props);

// The one line this library is about.
withMultiprocessingFix(withFix);

app.synth();
