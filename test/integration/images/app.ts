import * as path from 'path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { MultiprocessingImageCode } from '../../../src';

// The app of the images stage (test/integration/images/run.sh): one Dockerfile (function/) built on each stand-in base
// image (PYTHON_TAG, a build arg) for each architecture, as image functions with the fix. The stage builds each
// image from the cloud assembly as `cdk deploy` would and runs it with and without LD_PRELOAD.
// CLM_IMAGES_ARCHS=x86_64,arm64 (the default) chooses the architectures.
const archs = (process.env.CLM_IMAGES_ARCHS ?? 'x86_64,arm64').split(',');
const app = new App();
const stack = new Stack(app, 'ImageFunctions');
for (const pythonTag of ['3.12', '3.11']) {
  for (const arch of archs) {
    const architecture = arch === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
    new lambda.DockerImageFunction(stack, `Python${pythonTag.replace('.', '')}${arch === 'arm64' ? 'Arm64' : 'X86'}`, {
      code: MultiprocessingImageCode.fromImageAsset(path.join(__dirname, 'function'), {
        buildArgs: { PYTHON_TAG: pythonTag },
        target: 'function',
      }),
      architecture,
      memorySize: 1024,
      // Long enough for a cold workload under qemu (arm64: 35-50 s at load 15-20 on 2 cores), short enough
      // that the timeout case stays cheap.
      timeout: Duration.seconds(arch === 'arm64' ? 90 : 15),
    });
  }
}
app.synth();
