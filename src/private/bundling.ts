import * as fs from 'fs';
import * as path from 'path';
import { AssetHashType, BundlingOptions, BundlingOutput, DockerImage, ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { TargetArchitecture } from './architecture';
import { dockerProblem } from './docker-check';
import { LIBRARY_PATH_IN_LAYER } from './layer-layout';
import { LayerSources } from './layer-sources';
import { LibraryBuild } from '../library-build';
import { buildWithLocalCompiler, findReadelf } from './toolchain';
import { localBuildProblem, noReadelfProblem } from './toolchain-messages';

export { LIBRARY_PATH_IN_LAYER };

export interface LayerCodeOptions {
  readonly build: LibraryBuild;
  readonly dockerImage?: DockerImage;
  /** Told why the prebuilt library stands in for a build (LibraryBuild.AUTO). */
  readonly onPrebuilt: (reason: string) => void;
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
  const image = options.dockerImage ?? lambda.Runtime.PROVIDED_AL2023.bundlingImage;
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
    local: localBundling(sources, target, image, options, prefix),
  };
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
function localBundling(
  sources: LayerSources,
  target: TargetArchitecture,
  image: DockerImage,
  options: LayerCodeOptions,
  prefix: string,
): ILocalBundling {
  return {
    tryBundle(outputDir: string): boolean {
      const root = path.join(outputDir, prefix);
      if (options.build === LibraryBuild.PREBUILT) {
        fs.cpSync(prebuiltDirectory(sources, target), root, { recursive: true });
        return true;
      }
      if (options.build === LibraryBuild.DOCKER) {
        const docker = dockerProblem(target, image);
        if (docker !== undefined) {
          throw new Error(sentence(`Cannot build shm_redirect.so for ${target.name} in Docker (LibraryBuild.DOCKER): ${docker}`));
        }
        return false;
      }
      const local = buildLocally(sources, target, path.join(root, path.dirname(LIBRARY_PATH_IN_LAYER)));
      if (local === undefined) {
        return true;
      }
      const docker = dockerProblem(target, image);
      if (docker === undefined) {
        return false; // aws-cdk-lib runs the Docker build
      }
      const prebuilt = sources.prebuilt(target);
      if (options.build === LibraryBuild.AUTO && 'directory' in prebuilt) {
        fs.cpSync(prebuilt.directory, root, { recursive: true });
        options.onPrebuilt(`no local build (${local}) and no Docker build (${docker})`);
        return true;
      }
      throw new Error(
        [
          `Cannot build shm_redirect.so for ${target.name} Lambda functions: ${local}`,
          sentence(`Docker cannot build it either: ${docker}`),
          options.build === LibraryBuild.AUTO
            ? `And there is no prebuilt library to fall back on: ${(prebuilt as { missing: string }).missing}.`
            : 'Or choose `libraryBuild: LibraryBuild.PREBUILT` to use the library this package ships, built from the same sources.',
        ].join(' '),
      );
    },
  };
}

/** Builds and audits the library in `libDir`; undefined when done, else why not. */
function buildLocally(sources: LayerSources, target: TargetArchitecture, libDir: string): string | undefined {
  const readelf = findReadelf(target);
  if (readelf === undefined) {
    return noReadelfProblem();
  }
  const result = buildWithLocalCompiler(sources, target, readelf, libDir);
  return result.built ? undefined : localBuildProblem(target, result.attempts);
}

function sentence(text: string): string {
  return /[.?!]$/.test(text) ? text : `${text}.`;
}
