import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { PRELOAD, sharedOutdir } from './util';
import { ImageFunctionsExampleStack, PyTorchDataLoaderExampleStack } from '../../examples/image-stacks';
import { targetOf } from '../../src/private/architecture';
import { elfMachine } from '../../src/private/toolchain';

// The container image examples (examples/image-stacks.ts), synthesized, not built: the images themselves are
// built and run by the end-to-end test, and the PyTorch one by hand (examples/pytorch-dataloader/run.sh).
const outdir = sharedOutdir();

function image(app: App, stack: Stack, fn: lambda.Function): { source: any; library?: string } {
  const assembly = app.synth();
  const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'));
  const entry = Object.values(manifest.dockerImages as Record<string, any>).find((e) => e.displayName === `${fn.node.id}/AssetImage`);
  const context = entry.source.dockerBuildContexts?.['shm-redirect'];
  return {
    source: entry.source,
    library: context && path.join(assembly.directory, entry.source.directory, context, 'opt', 'lib', 'shm_redirect.so'),
  };
}

function environmentOf(stack: Stack, fn: lambda.Function): unknown {
  return Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)].Properties.Environment;
}

test('the image example: x86_64 and arm64 functions with the fix, and a control built from the stage before the one line', () => {
  const app = new App({ outdir });
  const stack = new ImageFunctionsExampleStack(app, 'Images');

  for (const fn of [stack.x86, stack.arm]) {
    const { source, library } = image(app, stack, fn);
    expect(source.platform).toBe(targetOf(fn.architecture).dockerPlatform);
    expect(source.dockerBuildTarget).toBeUndefined();
    expect(elfMachine(library!)).toBe(targetOf(fn.architecture).elfMachine);
    expect(environmentOf(stack, fn)).toEqual({ Variables: { LD_PRELOAD: PRELOAD } });
  }
  const control = image(app, stack, stack.control);
  expect(control.source.dockerBuildTarget).toBe('app');
  expect(control.library).toBeUndefined();
  expect(environmentOf(stack, stack.control)).toBeUndefined();
  expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
});

test('the image example on a stand-in base image passes it as BASE_IMAGE', () => {
  const app = new App({ outdir });
  const stack = new ImageFunctionsExampleStack(app, 'StandIn', { baseImage: 'localhost/lambda-python:3.12' });
  for (const fn of [stack.x86, stack.control]) {
    expect(image(app, stack, fn).source.dockerBuildArgs).toEqual({ BASE_IMAGE: 'localhost/lambda-python:3.12' });
  }
});

test('the PyTorch DataLoader example: an arm64 image with the library and LD_PRELOAD', () => {
  const app = new App({ outdir });
  const stack = new PyTorchDataLoaderExampleStack(app, 'PyTorch');
  const { source, library } = image(app, stack, stack.loader);
  expect(source.platform).toBe('linux/arm64');
  expect(elfMachine(library!)).toBe(targetOf(lambda.Architecture.ARM_64).elfMachine);
  expect(environmentOf(stack, stack.loader)).toEqual({ Variables: { LD_PRELOAD: PRELOAD } });
  Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { PackageType: 'Image', MemorySize: 3008, Architectures: ['arm64'] });
  expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
  expect(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'pytorch-dataloader', 'Dockerfile'), 'utf8')).toContain('\nCOPY --from=shm-redirect /opt /opt\n');
});
