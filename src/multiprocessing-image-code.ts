import * as fs from 'fs';
import * as path from 'path';
import { Annotations, AssetHashType, AssetStaging, Aspects, CfnResource, DockerImage, Stage } from 'aws-cdk-lib';
import * as ecr_assets from 'aws-cdk-lib/aws-ecr-assets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';
import { LibraryBuild } from './library-build';
import { MultiprocessingFix } from './multiprocessing-fix';
import { TargetArchitecture, targetOf } from './private/architecture';
import { checkLibrary, LayerCodeOptions, libraryBundling, rememberStagedLibrary, unbuiltPlaceholder } from './private/bundling';
import { BUILD_CONTEXT, checkDockerfile, DOCKERFILE_LINE } from './private/image-dockerfile-check';
import { registerImageLibrary } from './private/image-library';
import { LayerSources } from './private/layer-sources';
import { notePrebuiltFallback } from './private/prebuilt-notice';

/**
 * Properties of {@link MultiprocessingImageCode.fromImageAsset}: those of
 * `DockerImageCode.fromImageAsset`, and how the library is obtained.
 */
export interface MultiprocessingImageCodeProps extends lambda.AssetImageCodeProps {
  /**
   * How the image gets its `shm_redirect.so`: built from source (local
   * compiler, else Docker), the prebuilt library this package ships, or either.
   * The same choices as for the layer.
   *
   * @default LibraryBuild.AUTO - from source when this machine can, else the prebuilt library
   */
  readonly libraryBuild?: LibraryBuild;

  /**
   * The image the library is built in when Docker builds it (not the
   * function's image), for instance a copy of the default in a registry
   * mirror. It needs `sh` and a gcc for the architecture of the container.
   *
   * @default - `Runtime.PROVIDED_AL2023.bundlingImage` (public.ecr.aws/sam/build-provided.al2023)
   */
  readonly libraryBuildImage?: DockerImage;
}

/**
 * Container image code for `DockerImageFunction` whose image gets
 * `shm_redirect.so`, the library that gives Python `multiprocessing` a
 * working `/dev/shm` on Lambda.
 *
 * `fromImageAsset` builds your image like `DockerImageCode.fromImageAsset`,
 * with one more named build context, `shm-redirect`, holding
 * `opt/lib/shm_redirect.so` for the function's architecture. Your Dockerfile
 * adds one line, {@link MultiprocessingImageCode.DOCKERFILE_LINE}
 * (`COPY --from=shm-redirect /opt /opt`), and the function gets
 * `LD_PRELOAD=/opt/lib/shm_redirect.so` (merged with any LD_PRELOAD it has)
 * without further code. Synth reads the Dockerfile: one that never copies the
 * library, or is built for another architecture than the function's, is an
 * error naming the function and the line to write.
 */
export class MultiprocessingImageCode {
  /** Name of the Docker build context that holds `opt/lib/shm_redirect.so`. */
  public static readonly BUILD_CONTEXT = BUILD_CONTEXT;

  /** The line your Dockerfile adds, in the stage the function's image is built from. */
  public static readonly DOCKERFILE_LINE = DOCKERFILE_LINE;

  /**
   * Your image, built from `directory`, with the `shm-redirect` build context
   * for the architecture of the function it is given to; use it as the `code`
   * of a `DockerImageFunction`. One value may serve functions of both
   * architectures: each gets its own image asset.
   *
   * @param directory the directory of the Dockerfile and its build context
   * @param props those of `DockerImageCode.fromImageAsset`; `platform` may be left out (it follows the function's architecture)
   */
  public static fromImageAsset(directory: string, props: MultiprocessingImageCodeProps = {}): lambda.DockerImageCode {
    if (props.buildContexts !== undefined && BUILD_CONTEXT in props.buildContexts) {
      throw new Error(
        `MultiprocessingImageCode.fromImageAsset(${directory}): buildContexts names "${BUILD_CONTEXT}", the context that holds shm_redirect.so; give your context another name.`,
      );
    }
    return new LibraryImageCode(directory, props);
  }

  private constructor() {}
}

/** The oldest aws-cdk-lib the image API is tested with whose image assets take `buildContexts`. */
const MIN_IMAGE_CDK_VERSION = '2.276.0';

function installedCdkVersion(): string {
  try {
    let directory = path.dirname(require.resolve('aws-cdk-lib'));
    while (!fs.existsSync(path.join(directory, 'package.json'))) {
      directory = path.dirname(directory);
    }
    return JSON.parse(fs.readFileSync(path.join(directory, 'package.json'), 'utf8')).version;
  } catch {
    return '(version unknown)';
  }
}

/** aws-cdk-lib's DockerImageFunction calls `_bind` with the function's architecture; each call gives new code. */
class LibraryImageCode extends lambda.DockerImageCode {
  public constructor(private readonly directory: string, private readonly props: MultiprocessingImageCodeProps) {
    super();
  }

  /** @internal */
  public _bind(architecture?: lambda.Architecture): lambda.Code {
    return new LibraryAssetImageCode(this.directory, this.props, targetOf(architecture ?? lambda.Architecture.X86_64));
  }
}

class LibraryAssetImageCode extends lambda.Code {
  private inner?: lambda.AssetImageCode;

  public constructor(
    private readonly directory: string,
    private readonly props: MultiprocessingImageCodeProps,
    private readonly target: TargetArchitecture,
  ) {
    super();
  }

  public bind(scope: Construct): lambda.CodeConfig {
    if (this.inner === undefined) {
      this.inner = this.imageCode(scope);
    }
    const config = this.inner.bind(scope);
    // aws-cdk-lib releases before build contexts ignore the prop silently; theirs keep no such field.
    const asset = scope.node.tryFindChild('AssetImage');
    if (asset instanceof ecr_assets.DockerImageAsset && !Object.prototype.hasOwnProperty.call(asset, 'dockerBuildContexts')) {
      throw new Error(
        `${scope.node.path}: MultiprocessingImageCode needs aws-cdk-lib ${MIN_IMAGE_CDK_VERSION} or newer (image assets with \`buildContexts\`, which give the image shm_redirect.so); this app has aws-cdk-lib ${installedCdkVersion()}. ` +
          'Upgrade aws-cdk-lib and the cdk CLI (`npm install aws-cdk-lib@latest aws-cdk@latest`), or use a layer-less image built outside CDK (the prebuilt library, see the package\'s docs/images.md).',
      );
    }
    return config;
  }

  public bindToResource(resource: CfnResource, options?: lambda.ResourceBindOptions): void {
    this.inner?.bindToResource(resource, options);
  }

  private imageCode(fn: Construct): lambda.AssetImageCode {
    const { libraryBuild, libraryBuildImage, ...imageProps } = this.props;
    const target = this.target;
    if (imageProps.platform !== undefined && imageProps.platform.platform !== target.dockerPlatform) {
      Annotations.of(fn).addError(
        `${fn.node.path} is an ${target.name} function, but MultiprocessingImageCode.fromImageAsset was given platform ${imageProps.platform.platform}: leave \`platform\` out (it follows the function's architecture), or give the function the architecture of that platform.`,
      );
    }
    const { imagePreload } = checkDockerfile(fn, target, { directory: this.directory, file: imageProps.file, target: imageProps.target });

    const sources = LayerSources.bundled();
    const options: LayerCodeOptions = {
      build: libraryBuild ?? LibraryBuild.AUTO,
      libraryBuildImage,
      onPrebuilt: (reason) => notePrebuiltFallback(fn, reason),
    };
    const preparation = checkLibrary(fn, sources, target, options);
    let library: AssetStaging;
    if (preparation?.kind === 'failed') {
      Annotations.of(fn).addError(preparation.message);
      library = new AssetStaging(fn, 'ShmRedirectLibrary', { sourcePath: unbuiltPlaceholder() });
    } else {
      library = new AssetStaging(fn, 'ShmRedirectLibrary', {
        sourcePath: sources.directory,
        assetHash: sources.imageContextHash(target, options.build),
        assetHashType: AssetHashType.CUSTOM,
        bundling: libraryBundling(sources, target, options, 'opt'),
      });
      if (preparation?.kind === 'docker') {
        rememberStagedLibrary(sources, target, options, library.absoluteStagedPath, 'opt');
      }
    }

    registerImageLibrary(fn, { target, imagePreload });
    Aspects.of(fn).add(new MultiprocessingFix());
    return new lambda.AssetImageCode(this.directory, {
      ...imageProps,
      platform: ecr_assets.Platform.custom(target.dockerPlatform),
      buildContexts: { ...imageProps.buildContexts, [BUILD_CONTEXT]: contextPath(fn, library) },
    });
  }
}

/**
 * The build context as cdk-assets will see it: it runs `docker build` in the
 * image's staged directory, `<cloud assembly>/asset.<hash>`, next to the
 * library's, so a relative path keeps the cloud assembly movable (a pipeline
 * builds images from it on another machine) and the image's asset hash, which
 * includes the build contexts, the same on every checkout. Without asset
 * staging (`sam local`) the image is built in its source directory.
 */
function contextPath(scope: Construct, library: AssetStaging): string {
  const stagedName = `asset.${library.assetHash}`;
  if (scope.node.tryGetContext(cxapi.DISABLE_ASSET_STAGING_CONTEXT)) {
    return path.join(Stage.of(scope)!.assetOutdir, stagedName);
  }
  return `../${stagedName}`;
}
