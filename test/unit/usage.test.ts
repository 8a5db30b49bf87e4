import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { PRELOAD, sharedOutdir } from './util';
import { withMultiprocessingFix } from '../../src';

// The TypeScript app of README.md's quick start (test/apps/quickstart runs it as written against the npm
// package) and docs/cdk.md, here with the import from
// ../../src instead of 'cdk-lambda-multiprocessing'.
test('the documented TypeScript usage synthesizes as described', () => {
  const app = new App({ outdir: sharedOutdir() });
  const stack = new Stack(app, 'Workers');
  new lambda.Function(stack, 'Pool', {
    runtime: lambda.Runtime.PYTHON_3_12,
    architecture: lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(path.join(__dirname, '..', 'apps', 'python-app', 'functions')),
  });

  withMultiprocessingFix(stack);

  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Lambda::LayerVersion', { CompatibleArchitectures: ['arm64'] });
  template.hasResourceProperties('AWS::Lambda::Function', {
    Architectures: ['arm64'],
    Environment: { Variables: { LD_PRELOAD: PRELOAD } },
  });
});
