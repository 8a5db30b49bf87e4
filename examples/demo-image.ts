import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { MultiprocessingImageCode } from '../src';

// The app of `npx projen demo` in container mode (test/integration/demo_container.py), for machines where the root
// sandbox cannot run: the demo's function (examples/functions/all_workloads.py) as an image function with the
// fix. The demo runs its image twice as Lambda runs an image, with LD_PRELOAD as synthesized and without.
const app = new App();
const stack = new Stack(app, 'MultiprocessingImageDemo');
new lambda.DockerImageFunction(stack, 'WithFix', {
  code: MultiprocessingImageCode.fromImageAsset(__dirname, {
    file: 'demo-image.Dockerfile',
    exclude: ['*.ts', '*.json', 'image*', 'pytorch-dataloader', 'functions/__pycache__'],
  }),
  architecture: lambda.Architecture.X86_64,
  // Lambda gives a function CPU in proportion to its memory; 1769 MB is one full vCPU.
  memorySize: 1769,
  timeout: Duration.seconds(60),
});
app.synth();
