// Synthesizes one layer with libraryBuild DOCKER in the image CLM_IMAGE for CLM_ARCH (x86_64 | arm64) into
// CLM_OUTDIR, and prints the path of the staged layer asset. Run by test/library/run-docker.sh with
// CDK_DOCKER=test/tools/podman/docker, so the build runs in a real container.
import * as path from 'path';
import { App, DockerImage, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LibraryBuild, ShmRedirectLayer } from '../../src';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} must be set`);
  }
  return value;
}

const architecture = required('CLM_ARCH') === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64;
const outdir = required('CLM_OUTDIR');
const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
const stack = new Stack(app, 'DockerBuild');
const layer = new ShmRedirectLayer(stack, 'Shm', {
  libraryBuild: LibraryBuild.DOCKER,
  libraryBuildImage: DockerImage.fromRegistry(required('CLM_IMAGE')),
}).layerFor(architecture) as lambda.LayerVersion;
const artifact = app.synth().getStackByName(stack.stackName);
// An error annotation fails `cdk synth`; here it fails the script, with the message.
const errors = artifact.messages.filter((m) => m.level === 'error');
if (errors.length > 0) {
  for (const e of errors) {
    console.error(`[Error at ${e.id}] ${String(e.entry.data)}`);
  }
  process.exit(1);
}
const template = artifact.template;
const resource = template.Resources[stack.getLogicalId(layer.node.defaultChild as lambda.CfnLayerVersion)];
console.log(path.join(outdir, resource.Metadata['aws:asset:path']));
