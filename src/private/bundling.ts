import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AssetHashType, BundlingOptions, BundlingOutput, DockerImage, ILocalBundling, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import { TargetArchitecture } from './architecture';
import { dockerProblem } from './docker-check';
import { LIBRARY_PATH_IN_LAYER } from './layer-layout';
import { LayerSources } from './layer-sources';
import { LibraryCache } from './library-cache';
import { LibraryBuild } from '../library-build';
import { buildWithLocalCompiler, findReadelf } from './toolchain';
import { localBuildProblem, noReadelfProblem } from './toolchain-messages';

export { LIBRARY_PATH_IN_LAYER };

export interface LayerCodeOptions {
  readonly build: LibraryBuild;
  readonly libraryBuildImage?: DockerImage;
  /** Told why the prebuilt library stands in for a build (LibraryBuild.AUTO); may be told more than once. */
  readonly onPrebuilt: (reason: string) => void;
}

/**
 * How the library for one architecture is obtained in this synth, decided
 * once per process for every asset that holds it (the layer, an image's build
 * context): `built` (a directory holding `lib/shm_redirect.so`, from the cache
 * or a local build just made), `docker` (aws-cdk-lib's Docker bundling builds
 * it), `prebuilt` (the package's, with why), or `failed` (what to do).
 */
export type Preparation =
  | { readonly kind: 'built'; readonly directory: string }
  | { readonly kind: 'docker' }
  | { readonly kind: 'prebuilt'; readonly directory: string; readonly reason?: string }
  | { readonly kind: 'failed'; readonly message: string };

const preparations = new Map<string, Preparation>();

/**
 * Where the asset's library comes from, checked before any bundling: a
 * construct calls this when it creates the asset, so a machine that cannot
 * build becomes a synth error annotation that says what to do, not an
 * exception thrown from inside aws-cdk-lib's bundling. Nothing is checked
 * for a stack whose bundling is skipped (`cdk deploy OtherStack`).
 */
export function checkLibrary(
  scope: IConstruct,
  sources: LayerSources,
  target: TargetArchitecture,
  options: LayerCodeOptions,
): Preparation | undefined {
  if (!Stack.of(scope).bundlingRequired) {
    return undefined;
  }
  const preparation = prepareLibrary(sources, target, options);
  if (preparation.kind === 'prebuilt' && preparation.reason !== undefined) {
    options.onPrebuilt(preparation.reason);
  }
  return preparation;
}

/**
 * After aws-cdk-lib's Docker bundling staged the library at
 * `<staged>/<prefix>/lib/shm_redirect.so`, keeps it for every other asset
 * and later synths.
 */
export function rememberStagedLibrary(
  sources: LayerSources,
  target: TargetArchitecture,
  options: LayerCodeOptions,
  staged: string,
  prefix: string,
): void {
  const key = preparationKey(sources, target, options);
  if (preparations.get(key.memo)?.kind !== 'docker') {
    return;
  }
  key.cache.store(key.entry, target, path.join(staged, prefix, LIBRARY_PATH_IN_LAYER));
  const directory = key.cache.lookup(key.entry, target);
  if (directory !== undefined) {
    preparations.set(key.memo, { kind: 'built', directory });
  }
}

/**
 * A placeholder for an asset whose library cannot be obtained: the construct
 * has added the error annotation that fails the synth, and the placeholder's
 * hash (another than a built asset's) keeps it from ever being taken for one.
 */
export function unbuiltPlaceholder(): string {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'shm-redirect-unbuilt-'));
  fs.writeFileSync(path.join(directory, 'NOT-BUILT'), 'shm_redirect.so could not be built: see the synth error.\n');
  return directory;
}

/**
 * The layer's code for one architecture, as `options.build` says, under an
 * asset hash of the sources and the build choice only.
 */
export function layerCode(sources: LayerSources, target: TargetArchitecture, options: LayerCodeOptions): lambda.Code {
  const assetHash = sources.assetHash(target, options.build);
  if (options.build === LibraryBuild.PREBUILT) {
    return lambda.Code.fromAsset(prebuiltDirectory(sources, target), { assetHash, assetHashType: AssetHashType.CUSTOM });
  }
  return lambda.Code.fromAsset(sources.directory, {
    assetHash,
    assetHashType: AssetHashType.CUSTOM,
    bundling: libraryBundling(sources, target, options, ''),
  });
}

/**
 * Bundling that puts the library at `<prefix>/lib/shm_redirect.so` of the
 * asset output, as `options.build` says; for `LibraryBuild.PREBUILT` it copies
 * the prebuilt library and runs nothing. Use it with
 * `sourcePath: sources.directory`.
 */
export function libraryBundling(sources: LayerSources, target: TargetArchitecture, options: LayerCodeOptions, prefix: string): BundlingOptions {
  const image = buildImage(options);
  const libDir = path.posix.join(prefix, path.posix.dirname(LIBRARY_PATH_IN_LAYER));
  const script = [
    `sh /asset-input/build.sh --arch ${target.name} --out /asset-output/${libDir}`,
    `sh /asset-input/audit.sh --arch ${target.name} /asset-output/${path.posix.join(prefix, LIBRARY_PATH_IN_LAYER)}`,
  ].join(' && ');
  return {
    image,
    platform: target.dockerPlatform,
    command: ['sh', '-c', script],
    outputType: BundlingOutput.NOT_ARCHIVED,
    local: localBundling(sources, target, options, prefix),
  };
}

function buildImage(options: LayerCodeOptions): DockerImage {
  return options.libraryBuildImage ?? lambda.Runtime.PROVIDED_AL2023.bundlingImage;
}

function prebuiltDirectory(sources: LayerSources, target: TargetArchitecture): string {
  const prebuilt = sources.prebuilt(target);
  if ('missing' in prebuilt) {
    throw new Error(`shm_redirect.so for ${target.name}: LibraryBuild.PREBUILT, but ${prebuilt.missing}`);
  }
  return prebuilt.directory;
}

/**
 * aws-cdk-lib hashes the bundling options as JSON, `local` included: an
 * object whose only property is a function serializes as `{}`, so the paths
 * it closes over (the package's, the temp directory jsii unpacks it into)
 * stay out of the asset hash, as in aws-lambda-nodejs.
 */
function localBundling(sources: LayerSources, target: TargetArchitecture, options: LayerCodeOptions, prefix: string): ILocalBundling {
  return {
    tryBundle(outputDir: string): boolean {
      const preparation = prepareLibrary(sources, target, options);
      switch (preparation.kind) {
        case 'docker':
          return false; // aws-cdk-lib runs the Docker build
        case 'failed':
          // Reached only where the construct could not check first.
          throw new Error(preparation.message);
        case 'prebuilt':
          if (preparation.reason !== undefined) {
            options.onPrebuilt(preparation.reason);
          }
          fs.cpSync(preparation.directory, path.join(outputDir, prefix), { recursive: true });
          return true;
        case 'built':
          fs.cpSync(preparation.directory, path.join(outputDir, prefix), { recursive: true });
          return true;
      }
    },
  };
}

interface PreparationKey {
  readonly cache: LibraryCache;
  readonly entry: string;
  readonly memo: string;
}

function preparationKey(sources: LayerSources, target: TargetArchitecture, options: LayerCodeOptions): PreparationKey {
  const cache = LibraryCache.fromEnvironment();
  const how = options.build === LibraryBuild.DOCKER ? `docker:${buildImage(options).image}` : 'source';
  const entry = cache.key(sources.fingerprint(target), how);
  // What the machine offers can change within a process (tests do change it): part of the key.
  const machine = [process.env.PATH, process.env.CDK_DOCKER, process.env.READELF].join('\0');
  return { cache, entry, memo: [cache.root, entry, options.build, machine].join('\0') };
}

function prepareLibrary(sources: LayerSources, target: TargetArchitecture, options: LayerCodeOptions): Preparation {
  const key = preparationKey(sources, target, options);
  let preparation = preparations.get(key.memo);
  if (preparation === undefined) {
    preparation = decide(sources, target, options, key);
    preparations.set(key.memo, preparation);
  }
  return preparation;
}

function decide(sources: LayerSources, target: TargetArchitecture, options: LayerCodeOptions, key: PreparationKey): Preparation {
  if (options.build === LibraryBuild.PREBUILT) {
    const prebuilt = sources.prebuilt(target);
    return 'missing' in prebuilt
      ? { kind: 'failed', message: `shm_redirect.so for ${target.name}: LibraryBuild.PREBUILT, but ${prebuilt.missing}` }
      : { kind: 'prebuilt', directory: prebuilt.directory };
  }
  const cached = key.cache.lookup(key.entry, target);
  if (cached !== undefined) {
    return { kind: 'built', directory: cached };
  }
  const image = buildImage(options);
  if (options.build === LibraryBuild.DOCKER) {
    const docker = dockerProblem(target, image);
    return docker === undefined
      ? { kind: 'docker' }
      : { kind: 'failed', message: `Cannot build shm_redirect.so for ${target.name} in Docker (LibraryBuild.DOCKER): ${sentence(docker)} ${PREBUILT_HINT}` };
  }
  const local = buildLocally(sources, target, key);
  if (!('problem' in local)) {
    return local;
  }
  const docker = dockerProblem(target, image);
  if (docker === undefined) {
    return { kind: 'docker' };
  }
  const prebuilt = sources.prebuilt(target);
  if (options.build === LibraryBuild.AUTO && 'directory' in prebuilt) {
    return { kind: 'prebuilt', directory: prebuilt.directory, reason: `${local.short}; ${shortDockerProblem(docker)}` };
  }
  return {
    kind: 'failed',
    message: [
      `Cannot build shm_redirect.so for ${target.name} Lambda functions: ${local.problem}`,
      sentence(`Docker cannot build it either: ${docker}`),
      options.build === LibraryBuild.AUTO
        ? `And there is no prebuilt library to fall back on: ${(prebuilt as { missing: string }).missing}.`
        : PREBUILT_HINT,
    ].join(' '),
  };
}

const PREBUILT_HINT = 'Or set `libraryBuild: LibraryBuild.PREBUILT` to use the library this package ships, built from the same sources (no compiler, no Docker).';

/** Builds and audits the library into the cache; the built directory, or why not (whole, and in a few words). */
function buildLocally(sources: LayerSources, target: TargetArchitecture, key: PreparationKey): Preparation | { problem: string; short: string } {
  const readelf = findReadelf(target);
  if (readelf === undefined) {
    return { problem: noReadelfProblem(), short: 'no readelf' };
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'shm-redirect-built-'));
  const result = buildWithLocalCompiler(sources, target, readelf, path.join(work, path.dirname(LIBRARY_PATH_IN_LAYER)));
  if (!result.built) {
    fs.rmSync(work, { recursive: true, force: true });
    const installed = result.attempts.some((a) => a.outcome !== 'missing');
    return {
      problem: localBuildProblem(target, result.attempts),
      short: installed ? `no C compiler here builds for ${target.gnuTriplet}` : `no C compiler for ${target.gnuTriplet}`,
    };
  }
  key.cache.store(key.entry, target, path.join(work, LIBRARY_PATH_IN_LAYER));
  const cached = key.cache.lookup(key.entry, target);
  if (cached === undefined) {
    // An unwritable cache: the build serves this process from where it was made.
    process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));
    return { kind: 'built', directory: work };
  }
  fs.rmSync(work, { recursive: true, force: true });
  return { kind: 'built', directory: cached };
}

function shortDockerProblem(problem: string): string {
  if (/could not be run/.test(problem)) {
    return 'no Docker client';
  }
  if (/no emulator/.test(problem)) {
    return 'Docker has no emulator for it';
  }
  if (/version` failed/.test(problem)) {
    return 'no Docker engine running';
  }
  return 'Docker cannot build it';
}

function sentence(text: string): string {
  return /[.?!]$/.test(text) ? text : `${text}.`;
}
