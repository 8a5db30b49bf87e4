import { App } from 'aws-cdk-lib';
import { ControlStack, MultiprocessingExampleStack } from './stacks';

// `cdk synth` (cdk.json beside this file) or `npx projen demo:full`, which synthesizes and runs it locally.
const app = new App();
new MultiprocessingExampleStack(app, 'MultiprocessingExample');
new ControlStack(app, 'MultiprocessingControl');
app.synth();
