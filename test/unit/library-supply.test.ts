import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, AssetStaging, Annotations as CoreAnnotations, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { pathWith, pythonFunction, SHELL_TOOLS } from './util';
import { LibraryBuild, MultiprocessingImageCode, ShmRedirectLayer, withMultiprocessingFix } from '../../src';
import * as toolchain from '../../src/private/toolchain';

// How a synth obtains the library, as a user meets it (issue 27.4-27.7): one compile per architecture whatever
// uses it, reused by later synths; one short acknowledgeable line for the prebuilt fallback; failures as synth
// errors that say what to do; one name for the build image.
const savedEnv = { ...process.env };
let work: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'clm-supply-'));
  process.env.CDK_LAMBDA_MULTIPROCESSING_CACHE = path.join(work, 'cache');
  delete process.env.CDK_DOCKER;
  AssetStaging.clearAssetHashCache();
});
afterEach(() => {
  process.env = { ...savedEnv };
  jest.restoreAllMocks();
  fs.rmSync(work, { recursive: true, force: true });
});

/** An app with an arm64 zip function and an arm64 image function, fixed. */
function zipAndImageApp(outdir: string): { app: App; stack: Stack } {
  const app = new App({ outdir });
  const stack = new Stack(app, 'Workers');
  pythonFunction(stack, 'Pool', { architecture: lambda.Architecture.ARM_64 });
  const image = path.join(work, 'image');
  fs.mkdirSync(image, { recursive: true });
  fs.writeFileSync(path.join(image, 'Dockerfile'), 'FROM public.ecr.aws/lambda/python:3.12\nCOPY --from=shm-redirect /opt /opt\nCMD ["app.handler"]\n');
  new lambda.DockerImageFunction(stack, 'Loader', {
    architecture: lambda.Architecture.ARM_64,
    code: MultiprocessingImageCode.fromImageAsset(image),
  });
  withMultiprocessingFix(stack);
  return { app, stack };
}

function annotations(stack: Stack, level: 'warning' | 'error' | 'info'): { id: string; text: string }[] {
  const found = Annotations.fromStack(stack);
  const list = level === 'warning' ? found.findWarning('*', Match.anyValue()) : level === 'error' ? found.findError('*', Match.anyValue()) : found.findInfo('*', Match.anyValue());
  return list.map((m) => ({ id: m.id, text: String(m.entry.data) }));
}

describe('one compile per architecture', () => {
  test('the layer and an image\'s build context of one architecture share one compile in a synth', () => {
    const compile = jest.spyOn(toolchain, 'buildWithLocalCompiler');
    const { app } = zipAndImageApp(path.join(work, 'cdk.out'));
    app.synth();
    expect(compile).toHaveBeenCalledTimes(1);
  });

  test('a later synth into a fresh cdk.out reuses the build, cached by the sources\' hash', () => {
    zipAndImageApp(path.join(work, 'first.out')).app.synth();
    AssetStaging.clearAssetHashCache();
    const compile = jest.spyOn(toolchain, 'buildWithLocalCompiler');
    const { app } = zipAndImageApp(path.join(work, 'second.out'));
    app.synth();
    expect(compile).not.toHaveBeenCalled();
    expect(fs.readdirSync(path.join(work, 'cache'))).toHaveLength(1);
  });

  test('CDK_LAMBDA_MULTIPROCESSING_CACHE=off keeps no cache, and still compiles once per synth', () => {
    process.env.CDK_LAMBDA_MULTIPROCESSING_CACHE = 'off';
    const compile = jest.spyOn(toolchain, 'buildWithLocalCompiler');
    zipAndImageApp(path.join(work, 'cdk.out')).app.synth();
    expect(compile).toHaveBeenCalledTimes(1);
    expect(fs.existsSync(path.join(work, 'cache'))).toBe(false);
  });
});

describe('the prebuilt fallback (LibraryBuild.AUTO, nothing here can build)', () => {
  test('is one short warning with an id, for both architectures and the image together', () => {
    process.env.PATH = pathWith(work, SHELL_TOOLS);
    const { app, stack } = zipAndImageApp(path.join(work, 'cdk.out'));
    pythonFunction(stack, 'X86', { architecture: lambda.Architecture.X86_64 });
    app.synth();

    expect(annotations(stack, 'info')).toEqual([]);
    const warnings = annotations(stack, 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0].text).toMatch(/^shm_redirect.so is the prebuilt library this package ships \(no readelf; no Docker client\), built from the same sources\. Set libraryBuild: LibraryBuild.PREBUILT to skip the build attempt\. \[ack: cdk-lambda-multiprocessing:prebuiltLibrary\]$/);
    expect(warnings[0].text.length).toBeLessThan(250);
  });

  test('can be acknowledged', () => {
    process.env.PATH = pathWith(work, SHELL_TOOLS);
    const { app, stack } = zipAndImageApp(path.join(work, 'cdk.out'));
    CoreAnnotations.of(app).acknowledgeWarning('cdk-lambda-multiprocessing:prebuiltLibrary');
    app.synth();
    expect(annotations(stack, 'warning')).toEqual([]);
  });
});

describe('a machine that cannot build: a synth error that says what to do, before any bundling', () => {
  test('LibraryBuild.DOCKER without a Docker client names Docker, podman, CDK_DOCKER and PREBUILT', () => {
    process.env.CDK_DOCKER = path.join(work, 'no-such-docker');
    const app = new App({ outdir: path.join(work, 'cdk.out') });
    const stack = new Stack(app, 'Workers');
    let thrown: unknown;
    try {
      ShmRedirectLayer.of(stack, { libraryBuild: LibraryBuild.DOCKER }).layerFor(lambda.Architecture.ARM_64);
      app.synth();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeUndefined();
    const errors = annotations(stack, 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].id).toBe('/Workers/CdkLambdaMultiprocessingShmRedirectLayer');
    expect(errors[0].text).toMatch(
      /^Cannot build shm_redirect.so for arm64 in Docker \(LibraryBuild.DOCKER\): `.*no-such-docker` could not be run: .*ENOENT\. Install Docker or podman \(for podman: `export CDK_DOCKER=podman`\), or set CDK_DOCKER to the client you have\. Or set `libraryBuild: LibraryBuild.PREBUILT`/,
    );
  });

  test('LibraryBuild.FROM_SOURCE without a compiler or Docker: the error annotation, no exception from bundling', () => {
    process.env.PATH = pathWith(work, [...SHELL_TOOLS, 'readelf']);
    const app = new App({ outdir: path.join(work, 'cdk.out') });
    const stack = new Stack(app, 'Workers');
    pythonFunction(stack, 'Pool', { architecture: lambda.Architecture.ARM_64 });
    withMultiprocessingFix(stack, { layerProps: { libraryBuild: LibraryBuild.FROM_SOURCE } });
    expect(() => app.synth()).not.toThrow();
    expect(annotations(stack, 'error').map((e) => e.text)).toEqual([
      expect.stringMatching(/^Cannot build shm_redirect.so for arm64 Lambda functions: no C compiler for aarch64-linux-gnu is installed .*Install Docker or podman.*LibraryBuild.PREBUILT/),
    ]);
  });
});
