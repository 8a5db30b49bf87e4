import { App } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CONTROL_FUNCTIONS, ControlStack, ExampleFunction, FIXED_FUNCTIONS, MultiprocessingExampleStack } from '../../examples/stacks';

// The example app's workloads as python3.14 x86_64 functions, each handler once, and a control without the
// fix: run by the forky stage (test/library/run-forky.sh) on Debian forky's python3.14 and glibc 2.43.
const onPython314 = (specs: ExampleFunction[]): ExampleFunction[] =>
  specs
    .filter((spec, i) => specs.findIndex((other) => other.handler === spec.handler) === i)
    .map((spec) => ({
      ...spec,
      id: spec.id.replace(/Py3\d+/, 'Py314'),
      runtime: lambda.Runtime.PYTHON_3_14,
      architecture: lambda.Architecture.X86_64,
    }));

const app = new App();
new MultiprocessingExampleStack(app, 'Python314Example', { functions: onPython314(FIXED_FUNCTIONS) });
new ControlStack(app, 'Python314Control', { functions: onPython314(CONTROL_FUNCTIONS) });
app.synth();
