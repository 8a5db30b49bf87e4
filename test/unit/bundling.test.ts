import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, AssetStaging, DockerImage, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { pathWith, SHELL_TOOLS } from './util';
import { LibraryBuild, ShmRedirectLayer, ShmRedirectLayerProps } from '../../src';
import { targetOf } from '../../src/private/architecture';
import { LayerSources } from '../../src/private/layer-sources';
import { elfMachine } from '../../src/private/toolchain';

const LAYER_DIR = path.resolve(__dirname, '..', '..', 'layer');
const FAKE_DOCKER_DIR = path.join(__dirname, 'fake-docker');
const AL2023_IMAGE = 'public.ecr.aws/sam/build-provided.al2023';

const savedEnv = { ...process.env };
let work: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'clm-bundling-'));
  // Each test starts with no library built: these tests are about how one gets built.
  process.env.CDK_LAMBDA_MULTIPROCESSING_CACHE = path.join(work, 'cache');
  delete process.env.CDK_DOCKER;
});

/**
 * Points CDK (and the construct) at test/unit/fake-docker through CDK_DOCKER. CDK
 * starts docker with the real process environment, not jest's copy of it,
 * so the settings of the fake client are baked into a wrapper script.
 */
function useFakeDocker(options: { engine?: boolean; compiler?: boolean; emulator?: boolean } = {}): void {
  const wrapper = path.join(work, 'docker');
  fs.writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      `FAKE_DOCKER_LOG='${path.join(work, 'docker.log')}'`,
      `FAKE_DOCKER_NO_ENGINE=${options.engine === false ? 1 : 0}`,
      `FAKE_DOCKER_NO_COMPILER=${options.compiler === false ? 1 : 0}`,
      `FAKE_DOCKER_NO_EMULATOR=${options.emulator === false ? 1 : 0}`,
      'export FAKE_DOCKER_LOG FAKE_DOCKER_NO_ENGINE FAKE_DOCKER_NO_COMPILER FAKE_DOCKER_NO_EMULATOR',
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
  return synthLayerWithInfo(outdir, architecture, props).asset;
}

/** The staged asset and the synth's messages, each as `level: path: text`. */
function synthLayerWithInfo(outdir: string, architecture: lambda.Architecture, props?: ShmRedirectLayerProps): { asset: string; infos: string[] } {
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Stack');
  const layer = new ShmRedirectLayer(stack, 'Shm', props);
  const layerVersion = layer.layerFor(architecture) as lambda.LayerVersion;
  const assembly = app.synth();
  const artifact = assembly.getStackByName('Stack');
  const logicalId = stack.getLogicalId(layerVersion.node.defaultChild as lambda.CfnLayerVersion);
  const infos = artifact.messages.map((m) => `${m.level}: ${m.id}: ${String(m.entry.data)}`);
  return { asset: path.join(outdir, artifact.template.Resources[logicalId].Metadata['aws:asset:path']), infos };
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
  test('LibraryBuild.DOCKER checks the image, then runs the AL2023 build image for the platform, mounting the sources and building into /asset-output/lib', () => {
    useFakeDocker();
    const asset = synthLayer(path.join(work, 'cdk.out'), lambda.Architecture.ARM_64, { libraryBuild: LibraryBuild.DOCKER });

    const calls = dockerCalls();
    expect(calls.map((c) => c[0])).toEqual(['version', 'run', 'run']);
    expect(calls[1].slice(-6)).toEqual(['--platform', 'linux/arm64', AL2023_IMAGE, 'sh', '-c', expect.stringContaining('uname -m')]);
    const args = calls[2];
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
    expect(fs.readFileSync(path.join(asset, 'lib', 'shm_redirect.so'), 'utf8')).toContain('test/unit/fake-docker');
  });

  test.each(['libraryBuildImage', 'dockerImage'])('a custom image (registry mirror) as %s, and linux/amd64 for x86_64', (prop) => {
    useFakeDocker();
    const image = 'mirror.example.com/sam/build-provided.al2023:latest';
    synthLayer(path.join(work, 'cdk.out'), lambda.Architecture.X86_64, {
      libraryBuild: LibraryBuild.DOCKER,
      [prop]: DockerImage.fromRegistry(image),
    });

    const args = dockerCalls()[2];
    expect(valueAfter(args, '--platform')).toEqual(['linux/amd64']);
    expect(args).toContain(image);
    expect(args).not.toContain(AL2023_IMAGE);
    expect(args[args.length - 1]).toMatch(/^sh \/asset-input\/build\.sh --arch x86_64 --out \/asset-output\/lib && /);
  });

  test('without a compiler, Docker is used', () => {
    process.env.PATH = pathWith(work, [...SHELL_TOOLS, 'readelf']);
    useFakeDocker();
    const asset = synthLayer(path.join(work, 'cdk.out'), lambda.Architecture.ARM_64);

    expect(dockerCalls().map((c) => c[0])).toEqual(['version', 'run', 'run']);
    expect(fs.readFileSync(path.join(asset, 'lib', 'shm_redirect.so'), 'utf8')).toContain('test/unit/fake-docker');
  });

  test('unchanged sources are never rebuilt: the asset in cdk.out is reused', () => {
    useFakeDocker();
    const outdir = path.join(work, 'cdk.out');
    const first = synthLayer(outdir, lambda.Architecture.ARM_64, { libraryBuild: LibraryBuild.DOCKER });
    AssetStaging.clearAssetHashCache();
    const second = synthLayer(outdir, lambda.Architecture.ARM_64, { libraryBuild: LibraryBuild.DOCKER });

    expect(second).toBe(first);
    expect(dockerCalls()).toHaveLength(3);
  });

  test('an image without a compiler is a synth error that says so', () => {
    useFakeDocker({ compiler: false });
    const image = 'example.com/no-gcc:1';
    const { infos } = synthLayerWithInfo(path.join(work, 'cdk.out'), lambda.Architecture.X86_64, { libraryBuild: LibraryBuild.DOCKER, libraryBuildImage: DockerImage.fromRegistry(image) });
    expect(infos).toEqual([
      expect.stringMatching(/^error: \/Stack\/Shm: Cannot build shm_redirect.so for x86_64 in Docker \(LibraryBuild.DOCKER\): the image example.com\/no-gcc:1 \(linux\/amd64\) has no C compiler \(`cc` or `gcc`\)/),
    ]);
    expect(dockerCalls().map((c) => c[0])).toEqual(['version', 'run']);
  });

  test('no emulator for linux/arm64 is a synth error that says how to install one', () => {
    useFakeDocker({ emulator: false });
    const { infos } = synthLayerWithInfo(path.join(work, 'cdk.out'), lambda.Architecture.ARM_64, { libraryBuild: LibraryBuild.DOCKER });
    expect(infos).toEqual([
      expect.stringMatching(
        /^error: .*cannot run linux\/arm64 containers on this .* machine: no emulator for arm64 is registered \(exec format error\)\. Docker Desktop .* tonistiigi\/binfmt --install arm64.*qemu-user-static binfmt-support/,
      ),
    ]);
  });
});

describe('prebuilt library', () => {
  const prebuiltLibrary = (arch: string) => path.join(LAYER_DIR, 'prebuilt', arch, 'lib', 'shm_redirect.so');

  test.each([
    [lambda.Architecture.X86_64, 'x86_64'],
    [lambda.Architecture.ARM_64, 'arm64'],
  ])('no compiler and no Docker: synth uses the prebuilt %s library of the same sources and says so', (architecture, arch) => {
    process.env.PATH = pathWith(work, SHELL_TOOLS);
    const { asset, infos } = synthLayerWithInfo(path.join(work, 'cdk.out'), architecture);

    expect(fs.readFileSync(path.join(asset, 'lib', 'shm_redirect.so'))).toEqual(fs.readFileSync(prebuiltLibrary(arch)));
    expect(infos).toEqual([
      'warning: /Stack/Shm: shm_redirect.so is the prebuilt library this package ships (no readelf; no Docker client), built from the same sources. '
        + 'Set libraryBuild: LibraryBuild.PREBUILT to skip the build attempt. [ack: cdk-lambda-multiprocessing:prebuiltLibrary]',
    ]);
  });

  test('an x86_64 runner whose Docker cannot run arm64 (no emulator) gets the prebuilt arm64 library, and is told why', () => {
    process.env.PATH = pathWith(work, [...SHELL_TOOLS, 'readelf']);
    useFakeDocker({ emulator: false });
    const { asset, infos } = synthLayerWithInfo(path.join(work, 'cdk.out'), lambda.Architecture.ARM_64);

    expect(fs.readFileSync(path.join(asset, 'lib', 'shm_redirect.so'))).toEqual(fs.readFileSync(prebuiltLibrary('arm64')));
    expect(infos).toEqual([expect.stringMatching(/^warning: .*\(no C compiler for aarch64-linux-gnu; Docker has no emulator for it\)/)]);
    expect(dockerCalls().map((c) => c[0])).toEqual(['version', 'run']);
  });

  test('LibraryBuild.PREBUILT needs nothing on the machine and runs nothing', () => {
    process.env.PATH = fs.mkdtempSync(path.join(work, 'empty-'));
    useFakeDocker();
    const { asset, infos } = synthLayerWithInfo(path.join(work, 'cdk.out'), lambda.Architecture.ARM_64, { libraryBuild: LibraryBuild.PREBUILT });

    expect(fs.readdirSync(asset)).toEqual(['lib']);
    expect(fs.readFileSync(path.join(asset, 'lib', 'shm_redirect.so'))).toEqual(fs.readFileSync(prebuiltLibrary('arm64')));
    expect(elfMachine(path.join(asset, 'lib', 'shm_redirect.so'))).toBe(183);
    expect(dockerCalls()).toEqual([]);
    expect(infos).toEqual([]);
  });

  test('LibraryBuild.FROM_SOURCE never falls back on it: the error says what is missing and what to install', () => {
    process.env.PATH = pathWith(work, [...SHELL_TOOLS, 'readelf']);
    useFakeDocker({ engine: false });
    const { infos } = synthLayerWithInfo(path.join(work, 'cdk.out'), lambda.Architecture.ARM_64, { libraryBuild: LibraryBuild.FROM_SOURCE });
    expect(infos).toEqual([
      expect.stringMatching(
        /^error: \/Stack\/Shm: Cannot build shm_redirect.so for arm64 Lambda functions: no C compiler for aarch64-linux-gnu is installed .*apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils.* Docker cannot build it either: `.*docker version` failed: Cannot connect to the Docker daemon.*Start the engine.*LibraryBuild.PREBUILT/,
      ),
    ]);
  });

  test('prebuilt libraries of other sources are not used', () => {
    const copy = copyOfLayer(['prebuilt']);
    const source = fs.readdirSync(path.join(copy, 'src')).find((f) => f.endsWith('.c'))!;
    const arm = targetOf(lambda.Architecture.ARM_64);
    expect(new LayerSources(copy).prebuilt(arm)).toEqual({ directory: path.join(copy, 'prebuilt', 'arm64') });
    fs.appendFileSync(path.join(copy, 'src', source), '\n/* changed */\n');
    expect(new LayerSources(copy).prebuilt(arm)).toEqual({ missing: expect.stringMatching(/built from other sources/) });
  });

  test('the deprecated forceDockerBundling still builds in Docker, unless libraryBuild, which replaces it, is given', () => {
    useFakeDocker();
    synthLayer(path.join(work, 'docker.out'), lambda.Architecture.ARM_64, { forceDockerBundling: true });
    expect(dockerCalls().map((c) => c[0])).toEqual(['version', 'run', 'run']);

    const prebuilt = synthLayer(path.join(work, 'prebuilt.out'), lambda.Architecture.ARM_64, {
      forceDockerBundling: true,
      libraryBuild: LibraryBuild.PREBUILT,
    });
    expect(dockerCalls()).toHaveLength(3);
    expect(fs.readFileSync(path.join(prebuilt, 'lib', 'shm_redirect.so'))).toEqual(fs.readFileSync(prebuiltLibrary('arm64')));
  });
});

function copyOfLayer(extra: string[] = []): string {
  const copy = path.join(work, 'layer');
  fs.mkdirSync(copy);
  for (const entry of ['src', 'build.sh', 'audit.sh', 'exports.txt', 'VERSION', ...extra]) {
    fs.cpSync(path.join(LAYER_DIR, entry), path.join(copy, entry), { recursive: true });
  }
  return copy;
}

describe('asset hash', () => {
  const x86 = targetOf(lambda.Architecture.X86_64);
  const arm = targetOf(lambda.Architecture.ARM_64);

  test('depends on the sources, the build script, the export list, the version, the architecture and the build choice only', () => {
    const copy = copyOfLayer();
    const original = new LayerSources(copy).assetHash(x86, LibraryBuild.AUTO);

    expect(new LayerSources(LAYER_DIR).assetHash(x86, LibraryBuild.AUTO)).toBe(original);
    expect(new LayerSources(copy).assetHash(arm, LibraryBuild.AUTO)).not.toBe(original);
    const choices = Object.values(LibraryBuild).map((build) => new LayerSources(copy).assetHash(x86, build));
    expect(new Set(choices).size).toBe(choices.length);

    fs.appendFileSync(path.join(copy, 'audit.sh'), '\n# audit changes do not change the library\n');
    expect(new LayerSources(copy).assetHash(x86, LibraryBuild.AUTO)).toBe(original);

    let previous = original;
    const source = fs.readdirSync(path.join(copy, 'src')).find((f) => f.endsWith('.c'))!;
    for (const [file, change] of [
      [path.join('src', source), '\n/* changed */\n'],
      ['build.sh', '\n# changed flags\n'],
      ['exports.txt', 'another_symbol\n'],
    ]) {
      fs.appendFileSync(path.join(copy, file), change);
      const changed = new LayerSources(copy).assetHash(x86, LibraryBuild.AUTO);
      expect(changed).not.toBe(previous);
      previous = changed;
    }
  });

  test.each(Object.values(LibraryBuild))('%s: the same from two checkout paths, in the template and the S3 key', (build) => {
    useFakeDocker();
    const templates = ['checkout-a', path.join('elsewhere', 'checkout-b')].map((checkout) => {
      const layerDir = path.join(work, checkout, 'layer');
      fs.mkdirSync(path.dirname(layerDir), { recursive: true });
      fs.cpSync(LAYER_DIR, layerDir, { recursive: true, filter: (f) => !f.includes(`${path.sep}build${path.sep}`) });
      const spy = jest.spyOn(LayerSources, 'bundled').mockReturnValue(new LayerSources(layerDir));
      try {
        AssetStaging.clearAssetHashCache();
        return synthTemplate(path.join(work, checkout, 'cdk.out'), build);
      } finally {
        spy.mockRestore();
      }
    });
    expect(templates[1]).toEqual(templates[0]);
    expect(templates[0]).toMatch(/"S3Key": "[0-9a-f]{64}\.zip"/);
  });

  test('two synths in one folder give byte-identical templates', () => {
    const outdir = path.join(work, 'cdk.out');
    const first = synthTemplate(outdir, LibraryBuild.AUTO);
    AssetStaging.clearAssetHashCache();
    const second = synthTemplate(outdir, LibraryBuild.AUTO);
    expect(second).toBe(first);
  });

  test('a layer directory without its build script is a clear error', () => {
    const copy = copyOfLayer();
    fs.rmSync(path.join(copy, 'build.sh'));
    expect(() => new LayerSources(copy)).toThrow(/shm_redirect sources are incomplete: .*build\.sh is missing/);
  });
});

/** The template file of a stack with an arm64 layer, as written to cdk.out. */
function synthTemplate(outdir: string, build: LibraryBuild): string {
  const app = new App({ outdir });
  const stack = new Stack(app, 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
  ShmRedirectLayer.of(stack, { libraryBuild: build }).layerFor(lambda.Architecture.ARM_64);
  app.synth();
  return fs.readFileSync(path.join(outdir, 'Stack.template.json'), 'utf8');
}
