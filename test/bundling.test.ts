import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, AssetStaging, DockerImage, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ShmRedirectLayer, ShmRedirectLayerProps } from '../src';
import { targetOf } from '../src/architecture';
import { LayerSources } from '../src/layer-sources';
import { elfMachine } from '../src/toolchain';

const LAYER_DIR = path.resolve(__dirname, '..', 'layer');
const FAKE_DOCKER_DIR = path.join(__dirname, 'fake-docker');
const AL2023_IMAGE = 'public.ecr.aws/sam/build-provided.al2023';

const savedEnv = { ...process.env };
let work: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'clm-bundling-'));
  delete process.env.CDK_DOCKER;
});

/**
 * Points CDK (and the construct) at test/fake-docker through CDK_DOCKER. CDK
 * starts docker with the real process environment, not jest's copy of it,
 * so the settings of the fake client are baked into a wrapper script.
 */
function useFakeDocker(options: { engine: boolean } = { engine: true }): void {
  const wrapper = path.join(work, 'docker');
  fs.writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      `FAKE_DOCKER_LOG='${path.join(work, 'docker.log')}'`,
      `FAKE_DOCKER_NO_ENGINE=${options.engine ? 0 : 1}`,
      'export FAKE_DOCKER_LOG FAKE_DOCKER_NO_ENGINE',
      `exec '${path.join(FAKE_DOCKER_DIR, 'docker')}' "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  process.env.CDK_DOCKER = wrapper;
}
afterEach(() => {
  process.env = { ...savedEnv };
  fs.rmSync(work, { recursive: true, force: true });
});

/** Synthesizes one layer and returns the directory of its staged asset. */
function synthLayer(outdir: string, architecture: lambda.Architecture, props?: ShmRedirectLayerProps): string {
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Stack');
  const layer = new ShmRedirectLayer(stack, 'Shm', props);
  const layerVersion = layer.layerFor(architecture) as lambda.LayerVersion;
  const assembly = app.synth();
  const template = assembly.getStackByName('Stack').template;
  const logicalId = stack.getLogicalId(layerVersion.node.defaultChild as lambda.CfnLayerVersion);
  return path.join(outdir, template.Resources[logicalId].Metadata['aws:asset:path']);
}

/** The docker invocations the fake client recorded, each as its argument list. */
function dockerCalls(): string[][] {
  const log = path.join(work, 'docker.log');
  if (!fs.existsSync(log)) {
    return [];
  }
  const calls: string[][] = [[]];
  for (const line of fs.readFileSync(log, 'utf8').split('\n').slice(0, -1)) {
    if (line === '--') {
      calls.push([]);
    } else {
      calls[calls.length - 1].push(line);
    }
  }
  return calls.slice(0, -1);
}

function valueAfter(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (i > 0 && args[i - 1] === flag ? [arg] : []));
}

describe('local bundling', () => {
  test.each([
    [lambda.Architecture.X86_64, 62],
    [lambda.Architecture.ARM_64, 183],
  ])('builds a real %s library into lib/shm_redirect.so, without Docker', (architecture, machine) => {
    useFakeDocker(); // records any fallback to Docker
    const asset = synthLayer(path.join(work, 'cdk.out'), architecture);

    expect(fs.readdirSync(asset)).toEqual(['lib']);
    expect(fs.readdirSync(path.join(asset, 'lib'))).toEqual(['shm_redirect.so']);
    expect(elfMachine(path.join(asset, 'lib', 'shm_redirect.so'))).toBe(machine);
    expect(dockerCalls()).toEqual([]);
  });
});

describe('Docker bundling (fake docker client)', () => {
  test('forceDockerBundling runs the AL2023 build image for the platform, mounting the sources and building into /asset-output/lib', () => {
    useFakeDocker();
    const asset = synthLayer(path.join(work, 'cdk.out'), lambda.Architecture.ARM_64, { forceDockerBundling: true });

    const calls = dockerCalls();
    expect(calls).toHaveLength(1);
    const args = calls[0];
    expect(args[0]).toBe('run');
    expect(valueAfter(args, '--platform')).toEqual(['linux/arm64']);
    const mounts = valueAfter(args, '-v');
    expect(mounts).toContainEqual(expect.stringMatching(new RegExp(`^${LAYER_DIR}:/asset-input(:|$)`)));
    expect(mounts).toContainEqual(expect.stringMatching(/:\/asset-output(:|$)/));
    const imageIndex = args.indexOf(AL2023_IMAGE);
    expect(imageIndex).toBeGreaterThan(0);
    expect(args.slice(imageIndex + 1)).toEqual([
      'sh',
      '-c',
      'sh /asset-input/build.sh --arch arm64 --out /asset-output/lib && sh /asset-input/audit.sh --arch arm64 /asset-output/lib/shm_redirect.so',
    ]);
    expect(fs.readFileSync(path.join(asset, 'lib', 'shm_redirect.so'), 'utf8')).toContain('test/fake-docker');
  });

  test('a custom image (registry mirror) and linux/amd64 for x86_64', () => {
    useFakeDocker();
    const image = 'mirror.example.com/sam/build-provided.al2023:latest';
    synthLayer(path.join(work, 'cdk.out'), lambda.Architecture.X86_64, {
      forceDockerBundling: true,
      dockerImage: DockerImage.fromRegistry(image),
    });

    const [args] = dockerCalls();
    expect(valueAfter(args, '--platform')).toEqual(['linux/amd64']);
    expect(args).toContain(image);
    expect(args).not.toContain(AL2023_IMAGE);
    expect(args[args.length - 1]).toMatch(/^sh \/asset-input\/build\.sh --arch x86_64 --out \/asset-output\/lib && /);
  });

  test('without a compiler, Docker is used', () => {
    // No cc, gcc, cross gcc, zig or clang on PATH.
    process.env.PATH = fs.mkdtempSync(path.join(work, 'empty-'));
    useFakeDocker();
    const asset = synthLayer(path.join(work, 'cdk.out'), lambda.Architecture.ARM_64);

    const calls = dockerCalls();
    expect(calls.map((c) => c[0])).toEqual(['version', 'run']);
    expect(fs.existsSync(path.join(asset, 'lib', 'shm_redirect.so'))).toBe(true);
  });

  test('unchanged sources are never rebuilt: the asset in cdk.out is reused', () => {
    useFakeDocker();
    const outdir = path.join(work, 'cdk.out');
    const first = synthLayer(outdir, lambda.Architecture.ARM_64, { forceDockerBundling: true });
    AssetStaging.clearAssetHashCache();
    const second = synthLayer(outdir, lambda.Architecture.ARM_64, { forceDockerBundling: true });

    expect(second).toBe(first);
    expect(dockerCalls()).toHaveLength(1);
  });
});

describe('no compiler and no Docker', () => {
  test.each([
    ['no docker client', () => undefined, /`docker` could not be run/],
    ['a docker client without engine', () => useFakeDocker({ engine: false }), /Cannot connect to the Docker daemon/],
  ])('%s: one error that says what to install', (_name, setUpDocker, dockerReason) => {
    process.env.PATH = fs.mkdtempSync(path.join(work, 'empty-'));
    setUpDocker();
    expect(() => synthLayer(path.join(work, 'cdk.out'), lambda.Architecture.ARM_64)).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(
          new RegExp(
            'Cannot build shm_redirect.so for arm64 Lambda functions: no C compiler that targets aarch64-linux-gnu.*' +
              `${dockerReason.source}.*apt-get install gcc-aarch64-linux-gnu binutils.*zig.*Docker engine`,
          ),
        ),
      }),
    );
  });
});

describe('asset hash', () => {
  function copyOfLayer(): string {
    const copy = path.join(work, 'layer');
    fs.mkdirSync(copy);
    for (const entry of ['src', 'build.sh', 'audit.sh', 'VERSION']) {
      fs.cpSync(path.join(LAYER_DIR, entry), path.join(copy, entry), { recursive: true });
    }
    return copy;
  }

  test('depends on the sources, the build script, the version and the architecture only', () => {
    const copy = copyOfLayer();
    const x86 = targetOf(lambda.Architecture.X86_64);
    const arm = targetOf(lambda.Architecture.ARM_64);
    const original = new LayerSources(copy).assetHash(x86);

    expect(new LayerSources(LAYER_DIR).assetHash(x86)).toBe(original);
    expect(new LayerSources(copy).assetHash(arm)).not.toBe(original);

    fs.appendFileSync(path.join(copy, 'audit.sh'), '\n# audit changes do not change the library\n');
    expect(new LayerSources(copy).assetHash(x86)).toBe(original);

    const source = fs.readdirSync(path.join(copy, 'src')).find((f) => f.endsWith('.c'))!;
    fs.appendFileSync(path.join(copy, 'src', source), '\n/* changed */\n');
    const changedSource = new LayerSources(copy).assetHash(x86);
    expect(changedSource).not.toBe(original);

    fs.appendFileSync(path.join(copy, 'build.sh'), '\n# changed flags\n');
    expect(new LayerSources(copy).assetHash(x86)).not.toBe(changedSource);
  });

  test('a layer directory without its build script is a clear error', () => {
    const copy = copyOfLayer();
    fs.rmSync(path.join(copy, 'build.sh'));
    expect(() => new LayerSources(copy)).toThrow(/shm_redirect sources are incomplete: .*build\.sh is missing/);
  });
});
