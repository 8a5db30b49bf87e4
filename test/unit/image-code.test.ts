import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, AssetStaging, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecr_assets from 'aws-cdk-lib/aws-ecr-assets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { PRELOAD, sharedOutdir } from './util';
import { LibraryBuild, MultiprocessingImageCode, MultiprocessingImageCodeProps, withMultiprocessingFix } from '../../src';
import { targetOf } from '../../src/private/architecture';
import { LayerSources } from '../../src/private/layer-sources';
import { elfMachine } from '../../src/private/toolchain';

const LAYER_DIR = path.resolve(__dirname, '..', '..', 'layer');
const LINE = 'COPY --from=shm-redirect /opt /opt';
const outdir = sharedOutdir();
let work: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'clm-image-'));
});
afterEach(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

/** A function directory: the Dockerfile given and a handler. */
function imageDir(dockerfile: string, name = 'fn'): string {
  const dir = path.join(work, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  fs.writeFileSync(path.join(dir, 'app.py'), 'def handler(event, context):\n    return None\n');
  return dir;
}

/** The README's container-image Dockerfile, which these tests synthesize. */
const ONE_LINE = readmeDockerfile();

function readmeDockerfile(): string {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const block = /```dockerfile\n([\s\S]*?)```/.exec(readme);
  if (block === null) {
    throw new Error('README.md: no dockerfile block (the image function of its first screen)');
  }
  return block[1];
}


function imageFunction(
  stack: Stack,
  id: string,
  dir: string,
  props: Partial<lambda.DockerImageFunctionProps> = {},
  codeProps?: MultiprocessingImageCodeProps,
) {
  return new lambda.DockerImageFunction(stack, id, { code: MultiprocessingImageCode.fromImageAsset(dir, codeProps), ...props });
}

function functionProps(stack: Stack, fn: lambda.Function): any {
  const id = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
  return Template.fromStack(stack).toJSON().Resources[id].Properties;
}

/** The image assets of the stack's asset manifest (after synth), keyed by the function that uses them. */
function imageAssets(app: App, stack: Stack): Record<string, any> {
  const assembly = app.synth();
  const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'));
  return Object.fromEntries(
    Object.values(manifest.dockerImages as Record<string, any>).map((image) => [image.displayName.replace(/\/AssetImage$/, ''), image.source]),
  );
}

function messages(stack: Stack, level: 'error' | 'warning'): string[] {
  const annotations = Annotations.fromStack(stack);
  const found = level === 'error' ? annotations.findError('*', Match.anyValue()) : annotations.findWarning('*', Match.anyValue());
  return found.map((m) => String(m.entry.data));
}

test('the README\'s Dockerfile is the base image, the one line and the handler', () => {
  expect(ONE_LINE.split('\n')).toEqual(['FROM public.ecr.aws/lambda/python:3.12', LINE, 'COPY app.py ${LAMBDA_TASK_ROOT}/', 'CMD ["app.handler"]', '']);
});

describe('the image gets the library of its architecture', () => {
  test('x86_64: build context shm-redirect with opt/lib/shm_redirect.so for x86_64, platform linux/amd64, LD_PRELOAD, no warning', () => {
    const app = new App({ outdir });
    const stack = new Stack(app, 'X86');
    const fn = imageFunction(stack, 'Fn', imageDir(ONE_LINE));
    const source = imageAssets(app, stack).Fn;

    expect(source.platform).toBe('linux/amd64');
    expect(source.dockerBuildContexts).toEqual({ 'shm-redirect': expect.stringMatching(/^\.\.\/asset\.[0-9a-f]{64}$/) });
    const library = path.join(outdir, source.directory, source.dockerBuildContexts['shm-redirect'], 'opt', 'lib', 'shm_redirect.so');
    expect(elfMachine(library)).toBe(targetOf(lambda.Architecture.X86_64).elfMachine);
    expect(functionProps(stack, fn).Environment).toEqual({ Variables: { LD_PRELOAD: PRELOAD } });
    expect(messages(stack, 'warning')).toEqual([]);
    expect(messages(stack, 'error')).toEqual([]);
  });

  test('arm64 and x86_64 functions of one code value in one app: one image each, each with its own library', () => {
    const app = new App({ outdir });
    const stack = new Stack(app, 'Both');
    const code = MultiprocessingImageCode.fromImageAsset(imageDir(ONE_LINE));
    const arm = new lambda.DockerImageFunction(stack, 'Arm', { code, architecture: lambda.Architecture.ARM_64 });
    const x86 = new lambda.DockerImageFunction(stack, 'X86', { code, architecture: lambda.Architecture.X86_64 });
    const other = new Stack(app, 'Other');
    new lambda.DockerImageFunction(other, 'Arm', { code, architecture: lambda.Architecture.ARM_64 });
    const images = imageAssets(app, stack);

    expect(images.Arm.platform).toBe('linux/arm64');
    expect(images.X86.platform).toBe('linux/amd64');
    expect(images.Arm.dockerBuildContexts['shm-redirect']).not.toEqual(images.X86.dockerBuildContexts['shm-redirect']);
    for (const [id, architecture] of [['Arm', lambda.Architecture.ARM_64], ['X86', lambda.Architecture.X86_64]] as const) {
      const library = path.join(outdir, images[id].directory, images[id].dockerBuildContexts['shm-redirect'], 'opt', 'lib', 'shm_redirect.so');
      expect(elfMachine(library)).toBe(targetOf(architecture).elfMachine);
    }
    for (const fn of [arm, x86]) {
      expect(functionProps(stack, fn).Environment).toEqual({ Variables: { LD_PRELOAD: PRELOAD } });
    }
    expect(imageAssets(app, other).Arm.dockerBuildContexts).toEqual(images.Arm.dockerBuildContexts);
  });

  test('buildArgs, target, file and other build contexts pass through; a multi-stage Dockerfile may copy in the built stage', () => {
    const dockerfile = [
      'FROM public.ecr.aws/lambda/python:3.12 AS base',
      'FROM base AS deps',
      'RUN pip install numpy',
      'FROM deps AS runtime',
      'COPY --from=shm-redirect /opt /opt',
      'COPY --from=shared . /shared/',
      'COPY app.py ${LAMBDA_TASK_ROOT}/',
      'CMD ["app.handler"]',
      'FROM runtime AS test',
      'RUN python -m pytest',
      '',
    ].join('\n');
    const dir = imageDir('FROM scratch\n');
    fs.writeFileSync(path.join(dir, 'Lambda.Dockerfile'), dockerfile);
    const app = new App({ outdir });
    const stack = new Stack(app, 'Pass');
    imageFunction(stack, 'Fn', dir, {}, {
      file: 'Lambda.Dockerfile',
      target: 'runtime',
      buildArgs: { PYTHON: '3.12' },
      buildContexts: { shared: '/srv/shared' },
    });
    const source = imageAssets(app, stack).Fn;

    expect(source).toMatchObject({ dockerFile: 'Lambda.Dockerfile', dockerBuildTarget: 'runtime', dockerBuildArgs: { PYTHON: '3.12' } });
    expect(Object.keys(source.dockerBuildContexts).sort()).toEqual(['shared', 'shm-redirect']);
    expect(messages(stack, 'error')).toEqual([]);
  });

  test('the fix needs no aspect, and withMultiprocessingFix on the stack changes nothing more', () => {
    const template = (fix: boolean) => {
      const app = new App({ outdir });
      const stack = new Stack(app, 'Fix');
      imageFunction(stack, 'Fn', imageDir(ONE_LINE, `fn-${fix}`), { environment: { OTHER: '1' } });
      if (fix) {
        withMultiprocessingFix(stack);
      }
      return Template.fromStack(stack).toJSON();
    };
    expect(template(true)).toEqual(template(false));
  });
});

describe('LD_PRELOAD', () => {
  test.each([
    ['an LD_PRELOAD of the function is kept', { LD_PRELOAD: '/opt/lib/other.so' }, ONE_LINE, `/opt/lib/other.so:${PRELOAD}`],
    ['an ENV LD_PRELOAD of the built stage is kept (the function\'s replaces it on Lambda)', {}, `${ONE_LINE}ENV LD_PRELOAD=/usr/lib/libjemalloc.so\n`, `/usr/lib/libjemalloc.so:${PRELOAD}`],
    ['the function\'s LD_PRELOAD wins over the image\'s, as on Lambda', { LD_PRELOAD: '/a.so' }, `${ONE_LINE}ENV LD_PRELOAD /b.so\n`, `/a.so:${PRELOAD}`],
    ['one that names the library already is left as it is', { LD_PRELOAD: `${PRELOAD} /a.so` }, ONE_LINE, `${PRELOAD} /a.so`],
  ])('%s', (_name, environment, dockerfile, expected) => {
    const app = new App({ outdir });
    const stack = new Stack(app, 'Preload');
    const fn = imageFunction(stack, 'Fn', imageDir(dockerfile), { environment });
    expect(functionProps(stack, fn).Environment.Variables.LD_PRELOAD).toBe(expected);
    expect(messages(stack, 'warning')).toEqual([]);
  });

  test.each([
    ['ENV LD_PRELOAD="/a.so /b.so"', '/a.so /b.so'],
    ['ENV PATH=/x LD_PRELOAD=/a.so OTHER=1', '/a.so'],
    ['ENV LD_PRELOAD=/a.so\nENV LD_PRELOAD=/b.so', '/b.so'],
  ])('the built stage\'s last ENV LD_PRELOAD counts: %s', (env, preload) => {
    const app = new App({ outdir });
    const stack = new Stack(app, 'EnvForms');
    const fn = imageFunction(stack, 'Fn', imageDir(`${ONE_LINE}${env}\n`));
    expect(functionProps(stack, fn).Environment.Variables.LD_PRELOAD).toBe(`${preload}:${PRELOAD}`);
  });

  test('an ENV LD_PRELOAD of a stage the image does not include does not count', () => {
    const app = new App({ outdir });
    const stack = new Stack(app, 'OtherStage');
    const fn = imageFunction(stack, 'Fn', imageDir(`FROM scratch AS tools\nENV LD_PRELOAD=/a.so\n${ONE_LINE}`));
    expect(functionProps(stack, fn).Environment.Variables.LD_PRELOAD).toBe(PRELOAD);
  });

  test('an image LD_PRELOAD with a variable cannot be carried over: a warning says to list it in `environment`', () => {
    const app = new App({ outdir });
    const stack = new Stack(app, 'Variable');
    const fn = imageFunction(stack, 'Fn', imageDir(`${ONE_LINE}ENV LD_PRELOAD=\${LD_PRELOAD}:/b.so\n`));
    expect(functionProps(stack, fn).Environment.Variables.LD_PRELOAD).toBe(PRELOAD);
    expect(messages(stack, 'warning')).toEqual([
      expect.stringMatching(/^Variable\/Fn: its Dockerfile sets LD_PRELOAD=\$\{LD_PRELOAD\}:\/b\.so, .*give the function the whole list in `environment`/),
    ]);
  });

  test('a token LD_PRELOAD is joined', () => {
    const app = new App({ outdir });
    const stack = new Stack(app, 'Token');
    const other = new lambda.Function(stack, 'Other', { runtime: lambda.Runtime.PYTHON_3_12, handler: 'i.h', code: lambda.Code.fromInline('x') });
    const fn = imageFunction(stack, 'Fn', imageDir(ONE_LINE), { environment: { LD_PRELOAD: other.functionName } });
    expect(functionProps(stack, fn).Environment.Variables.LD_PRELOAD).toEqual({
      'Fn::Join': ['', [{ Ref: stack.getLogicalId(other.node.defaultChild as lambda.CfnFunction) }, `:${PRELOAD}`]],
    });
  });
});

describe('other image functions are warned, with the one-line fix', () => {
  test.each([
    ['DockerImageCode.fromImageAsset', (_stack: Stack, dir: string) => lambda.DockerImageCode.fromImageAsset(dir)],
    ['DockerImageCode.fromEcr', (stack: Stack) => lambda.DockerImageCode.fromEcr(ecr.Repository.fromRepositoryName(stack, 'Repo', 'fn'))],
  ])('%s', (_name, code) => {
    const app = new App({ outdir });
    const stack = new Stack(app, 'Plain');
    const fn = new lambda.DockerImageFunction(stack, 'Fn', { code: code(stack, imageDir(ONE_LINE.replace(`${LINE}\n`, ''))) });
    withMultiprocessingFix(stack);
    expect(functionProps(stack, fn).Environment).toBeUndefined();
    expect(messages(stack, 'warning')).toEqual([
      expect.stringContaining(`Plain/Fn is a container image function: Lambda adds no layers to images. If it uses Python multiprocessing, build it with MultiprocessingImageCode.fromImageAsset(directory) instead of DockerImageCode.fromImageAsset and add one line to its Dockerfile: ${LINE}`),
    ]);
  });
});

describe('a Dockerfile that would leave the function without the library is a synth error', () => {
  function errorsFor(dockerfile: string, props: Partial<lambda.DockerImageFunctionProps> = {}, codeProps?: MultiprocessingImageCodeProps): string[] {
    const app = new App({ outdir });
    const stack = new Stack(app, 'Bad');
    imageFunction(stack, 'Fn', imageDir(dockerfile), props, codeProps);
    return messages(stack, 'error');
  }

  test('no COPY from the context', () => {
    expect(errorsFor('FROM public.ecr.aws/lambda/python:3.12\nCOPY app.py ${LAMBDA_TASK_ROOT}/\n')).toEqual([
      expect.stringMatching(
        new RegExp(`^Bad/Fn: its Dockerfile \\(.*\\) never copies shm_redirect.so from the build context "shm-redirect" .*: add \`${LINE}\` to the stage of line 1, after its FROM\\.$`),
      ),
    ]);
  });

  test('the COPY is in a stage the built image does not include', () => {
    const dockerfile = ['FROM public.ecr.aws/lambda/python:3.12 AS with', LINE, 'FROM public.ecr.aws/lambda/python:3.12 AS final', 'CMD ["app.handler"]', ''].join('\n');
    expect(errorsFor(dockerfile)).toEqual([
      expect.stringMatching(/copies from the build context "shm-redirect" only in stage "with" \(line 1\) \(line 2\), which the image it builds \(stage "final" \(line 3\)\) does not include: put `COPY --from=shm-redirect \/opt \/opt` in stage "final"/),
    ]);
  });

  test('the COPY is in a stage after the `target`', () => {
    const dockerfile = ['FROM public.ecr.aws/lambda/python:3.12 AS runtime', 'FROM runtime AS fixed', LINE, ''].join('\n');
    expect(errorsFor(dockerfile, {}, { target: 'runtime' })).toEqual([expect.stringMatching(/only in stage "fixed" .* which the image it builds \(stage "runtime"/)]);
  });

  test('a `target` the Dockerfile lacks', () => {
    expect(errorsFor(ONE_LINE, {}, { target: 'nope' })).toEqual([expect.stringMatching(/has no stage named "nope", the `target` given to MultiprocessingImageCode\.fromImageAsset/)]);
  });

  test.each([
    ['COPY --from=shm-redirect /opt/lib /usr/lib', 'so that shm_redirect.so lands at /usr/lib/shm_redirect.so'],
    ['COPY --from=shm-redirect /opt/lib/shm_redirect.so /opt/', 'so that shm_redirect.so lands at /opt/shm_redirect.so'],
    ['COPY --from=shm-redirect /etc /opt', 'without shm_redirect.so'],
  ])('%s', (copy, what) => {
    expect(errorsFor(`FROM public.ecr.aws/lambda/python:3.12\n${copy}\n`)).toEqual([
      expect.stringContaining(`(line 2) ${what}, but LD_PRELOAD names ${PRELOAD}: write \`${LINE}\``),
    ]);
  });

  test.each([
    'COPY --from=shm-redirect / /',
    'COPY --from=shm-redirect opt/ /opt/',
    'COPY --from=shm-redirect /opt/lib/ /opt/lib/',
    'COPY --from=shm-redirect /opt/lib/shm_redirect.so /opt/lib/',
    'COPY --from=shm-redirect /opt/lib/shm_redirect.so /opt/lib/shm_redirect.so',
    'COPY --link --chmod=0755 --from=shm-redirect ["/opt", "/opt"]',
    'copy --from=SHM-REDIRECT \\\n  /opt \\\n  /opt',
    'COPY --from=shm-redirect /opt ./opt',
    'COPY --from=$LIBRARY /opt /opt',
  ])('accepted: %s', (copy) => {
    expect(errorsFor(`FROM public.ecr.aws/lambda/python:3.12\n# a comment\n${copy}\nRUN <<EOF\nFROM nothing\nEOF\n`)).toEqual([]);
  });

  test('a Dockerfile with the backtick escape directive', () => {
    expect(errorsFor('# escape=`\nFROM public.ecr.aws/lambda/python:3.12\nCOPY --from=shm-redirect `\n  /opt /opt\n')).toEqual([]);
  });

  test('a stage named shm-redirect hides the context', () => {
    expect(errorsFor(`FROM scratch AS shm-redirect\n${ONE_LINE}`)).toEqual([expect.stringMatching(/names a stage "shm-redirect" \(line 1\), which hides the build context .*: rename the stage/)]);
  });

  test('FROM --platform of the other architecture', () => {
    const dockerfile = `FROM --platform=linux/amd64 public.ecr.aws/lambda/python:3.12 AS base\nFROM base\n${LINE}\n`;
    expect(errorsFor(dockerfile, { architecture: lambda.Architecture.ARM_64 })).toEqual([
      expect.stringMatching(
        /^Bad\/Fn: its Dockerfile \(.*\) builds the stage of line 2 FROM --platform=linux\/amd64 \(line 1\), but the function's architecture is arm64 \(linux\/arm64\), .*drop --platform from that FROM/,
      ),
    ]);
    expect(errorsFor(`FROM --platform=$BUILDPLATFORM golang AS build\nFROM --platform=linux/arm64 public.ecr.aws/lambda/python:3.12\n${LINE}\n`, { architecture: lambda.Architecture.ARM_64 })).toEqual([]);
  });

  test('a `platform` prop of the other architecture', () => {
    expect(errorsFor(ONE_LINE, {}, { platform: ecr_assets.Platform.LINUX_ARM64 })).toEqual([
      expect.stringMatching(/^Bad\/Fn is an x86_64 function, but MultiprocessingImageCode.fromImageAsset was given platform linux\/arm64: leave `platform` out/),
    ]);
    expect(errorsFor(ONE_LINE, { architecture: lambda.Architecture.ARM_64 }, { platform: ecr_assets.Platform.LINUX_ARM64 })).toEqual([]);
    expect(errorsFor(ONE_LINE, { architecture: lambda.Architecture.ARM_64 }, { platform: ecr_assets.Platform.LINUX_AMD64 })).toEqual([
      expect.stringMatching(/^Bad\/Fn is an arm64 function, but MultiprocessingImageCode.fromImageAsset was given platform linux\/amd64/),
    ]);
  });

  test('a build context of our name is refused', () => {
    expect(() => MultiprocessingImageCode.fromImageAsset(work, { buildContexts: { 'shm-redirect': '/elsewhere' } })).toThrow(
      /buildContexts names "shm-redirect", the context that holds shm_redirect.so; give your context another name/,
    );
  });
});

describe('an aws-cdk-lib without image build contexts', () => {
  test('is a thrown error, not an image silently built without the library', () => {
    // Releases before build contexts have no such field on DockerImageAsset and drop the prop.
    const bind = lambda.AssetImageCode.prototype.bind;
    const spy = jest.spyOn(lambda.AssetImageCode.prototype, 'bind').mockImplementation(function (this: lambda.AssetImageCode, scope) {
      const config = bind.call(this, scope);
      delete (scope.node.findChild('AssetImage') as unknown as Record<string, unknown>).dockerBuildContexts;
      return config;
    });
    try {
      const stack = new Stack(new App({ outdir }), 'Old');
      expect(() => imageFunction(stack, 'Fn', imageDir(ONE_LINE))).toThrow(
        /^Old\/Fn: MultiprocessingImageCode needs aws-cdk-lib 2\.276\.0 or newer \(image assets with `buildContexts`, .*\); this app has aws-cdk-lib 2\.\d+\.\d+\. Upgrade aws-cdk-lib and the cdk CLI/,
      );
    } finally {
      spy.mockRestore();
    }
  });
});

describe('without asset staging (sam local)', () => {
  test('the build context is the absolute path of the staged library, as the image is built in its source directory', () => {
    const app = new App({ outdir, context: { 'aws:cdk:disable-asset-staging': true } });
    const stack = new Stack(app, 'NoStaging');
    const dir = imageDir(ONE_LINE);
    imageFunction(stack, 'Fn', dir);
    const source = imageAssets(app, stack).Fn;
    expect(source.directory).toBe(dir);
    const context = source.dockerBuildContexts['shm-redirect'];
    expect(context).toMatch(new RegExp(`^${outdir}/asset\\.[0-9a-f]{64}$`));
    expect(elfMachine(path.join(context, 'opt', 'lib', 'shm_redirect.so'))).toBe(targetOf(lambda.Architecture.X86_64).elfMachine);
  });
});

describe('asset hashes', () => {
  /** The image manifest entry and the template of an arm64 image function, synthesized from `checkout`. */
  function synthFrom(checkout: string, build: LibraryBuild): string {
    const layerDir = path.join(checkout, 'node_modules', 'cdk-lambda-multiprocessing', 'layer');
    fs.mkdirSync(path.dirname(layerDir), { recursive: true });
    fs.cpSync(LAYER_DIR, layerDir, { recursive: true, filter: (f) => !f.includes(`${path.sep}build${path.sep}`) });
    const dir = path.join(checkout, 'fn');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'Dockerfile'), ONE_LINE);
    const spy = jest.spyOn(LayerSources, 'bundled').mockReturnValue(new LayerSources(layerDir));
    try {
      AssetStaging.clearAssetHashCache();
      const app = new App({ outdir: path.join(checkout, 'cdk.out') });
      const stack = new Stack(app, 'Stack', { env: { account: '111111111111', region: 'eu-west-1' } });
      imageFunction(stack, 'Fn', dir, { architecture: lambda.Architecture.ARM_64 }, { libraryBuild: build });
      app.synth();
      return ['Stack.template.json', 'Stack.assets.json'].map((f) => fs.readFileSync(path.join(checkout, 'cdk.out', f), 'utf8')).join('\n');
    } finally {
      spy.mockRestore();
    }
  }

  test.each([LibraryBuild.AUTO, LibraryBuild.PREBUILT])('%s: the same from two checkout paths', (build) => {
    const first = synthFrom(path.join(work, 'checkout-a'), build);
    const second = synthFrom(path.join(work, 'elsewhere', 'checkout-b'), build);
    expect(second).toEqual(first);
    expect(first).toMatch(/"shm-redirect": "\.\.\/asset\.[0-9a-f]{64}"/);
  });

  test('the build context follows the library sources and the build choice', () => {
    const arm = targetOf(lambda.Architecture.ARM_64);
    const copy = path.join(work, 'layer');
    fs.cpSync(LAYER_DIR, copy, { recursive: true, filter: (f) => !f.includes(`${path.sep}build${path.sep}`) });
    const before = new LayerSources(copy).imageContextHash(arm, LibraryBuild.AUTO);
    expect(new LayerSources(LAYER_DIR).imageContextHash(arm, LibraryBuild.AUTO)).toBe(before);
    expect(new LayerSources(copy).imageContextHash(arm, LibraryBuild.PREBUILT)).not.toBe(before);
    expect(new LayerSources(copy).imageContextHash(targetOf(lambda.Architecture.X86_64), LibraryBuild.AUTO)).not.toBe(before);
    const source = fs.readdirSync(path.join(copy, 'src')).find((f) => f.endsWith('.c'))!;
    fs.appendFileSync(path.join(copy, 'src', source), '\n/* changed */\n');
    expect(new LayerSources(copy).imageContextHash(arm, LibraryBuild.AUTO)).not.toBe(before);
    expect(new LayerSources(copy).assetHash(arm, LibraryBuild.AUTO)).not.toBe(before);
  });
});
