import { App } from 'aws-cdk-lib';
import { ImageFunctionsExampleStack, PyTorchDataLoaderExampleStack } from './image-stacks';

// The container image examples: `npx cdk synth --app 'npx ts-node --prefer-ts-exts examples/image-app.ts'`.
const app = new App();
new ImageFunctionsExampleStack(app, 'MultiprocessingImageExample');
new PyTorchDataLoaderExampleStack(app, 'PyTorchDataLoaderExample');
app.synth();
