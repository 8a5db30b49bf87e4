import { DockerImage, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import { LibraryBuild } from './library-build';
import { targetOf } from './private/architecture';
import { LIBRARY_PATH_IN_LAYER } from './private/bundling';
import { checkLayersOfApp, registerLayer } from './private/layer-identity';
import { buildImageOf, libraryBuildOf, sameLayerBuild } from './private/layer-props';
import { LayerSources } from './private/layer-sources';
import { libraryLayerCode } from './private/library-layer-code';

/**
 * Properties of a {@link ShmRedirectLayer}.
 */
export interface ShmRedirectLayerProps {
  /**
   * How the layer gets its library: built from source (local compiler, else
   * Docker), the prebuilt library this package ships, or either.
   *
   * @default LibraryBuild.AUTO - from source when this machine can, else the prebuilt library
   */
  readonly libraryBuild?: LibraryBuild;

  /**
   * Build the library in Docker even when a host compiler could build it.
   * Ignored when `libraryBuild` is set.
   *
   * @default false
   * @deprecated use `libraryBuild: LibraryBuild.DOCKER`, which says the same
   */
  readonly forceDockerBundling?: boolean;

  /**
   * The image the library is built in when Docker is used, for instance a copy
   * of the default image in a registry mirror. It needs `sh` and a gcc for the
   * architecture of the container (`--platform linux/amd64` or `linux/arm64`).
   * The same prop as `MultiprocessingImageCodeProps.libraryBuildImage`.
   *
   * @default - `Runtime.PROVIDED_AL2023.bundlingImage` (public.ecr.aws/sam/build-provided.al2023)
   */
  readonly libraryBuildImage?: DockerImage;

  /**
   * The image the library is built in when Docker is used. Ignored when
   * `libraryBuildImage` is set.
   *
   * @default - `Runtime.PROVIDED_AL2023.bundlingImage`
   * @deprecated use `libraryBuildImage`, the name the image code uses too
   */
  readonly dockerImage?: DockerImage;

  /**
   * What happens to the layer versions when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN - as for any `lambda.LayerVersion`
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Lambda layers holding `shm_redirect.so`, the library that gives Python
 * `multiprocessing` a working `/dev/shm` on Lambda.
 *
 * One layer version per architecture, each created the first time a function
 * of that architecture asks for it, so an app with only x86_64 functions never
 * builds the arm64 library. The library lands at `/opt/lib/shm_redirect.so`;
 * a function uses it with `LD_PRELOAD` set to {@link ShmRedirectLayer.PRELOAD}.
 */
export class ShmRedirectLayer extends Construct {
  /** Path of the library on Lambda, the value `LD_PRELOAD` must name. */
  public static readonly PRELOAD = `/opt/${LIBRARY_PATH_IN_LAYER}`;

  /**
   * The layer shared by the functions of the stack that holds `scope`
   * (nested stacks have their own), created on first use.
   *
   * @param scope any construct of the stack
   * @param props used when the layer is created; a later call with other props is an error
   */
  public static of(scope: IConstruct, props: ShmRedirectLayerProps = {}): ShmRedirectLayer {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(SHARED_ID);
    if (existing === undefined) {
      return new ShmRedirectLayer(stack, SHARED_ID, props);
    }
    if (!(existing instanceof ShmRedirectLayer)) {
      throw new Error(`${stack.node.path}/${SHARED_ID} exists and is not a ShmRedirectLayer; rename that construct`);
    }
    if (!sameLayerBuild(existing.props, props)) {
      throw new Error(
        `The shared ShmRedirectLayer of stack ${stack.node.path} was created with other bundling props; pass the same props everywhere, or pass one ShmRedirectLayer as \`layer\``,
      );
    }
    return existing;
  }

  /** Version of the shm_redirect library in the layers. */
  public readonly libraryVersion: string;

  private readonly props: ShmRedirectLayerProps;
  private readonly build: LibraryBuild;
  private readonly sources: LayerSources;
  private readonly layers = new Map<string, lambda.LayerVersion>();

  public constructor(scope: Construct, id: string, props: ShmRedirectLayerProps = {}) {
    super(scope, id);
    this.props = props;
    this.build = libraryBuildOf(props);
    this.sources = LayerSources.bundled();
    this.libraryVersion = this.sources.version;
    checkLayersOfApp(this);
  }

  /**
   * The layer version for functions of `architecture`, created (and its
   * library built) on the first call.
   */
  public layerFor(architecture: lambda.Architecture): lambda.ILayerVersion {
    const target = targetOf(architecture);
    let layer = this.layers.get(target.name);
    if (layer === undefined) {
      const library = libraryLayerCode(this, this.sources, target, this.build, buildImageOf(this.props));
      layer = new lambda.LayerVersion(this, target.name === 'x86_64' ? 'X86_64' : 'Arm64', {
        code: library.code,
        compatibleArchitectures: [target.lambda],
        description: `shm_redirect ${this.libraryVersion} (${target.name}): Python multiprocessing on Lambda with LD_PRELOAD=${ShmRedirectLayer.PRELOAD}`,
        removalPolicy: this.props.removalPolicy,
      });
      library.staged(layer);
      this.layers.set(target.name, layer);
      registerLayer(layer, { architecture: target.name, libraryVersion: this.libraryVersion, source: `ShmRedirectLayer ${this.node.path}` });
    }
    return layer;
  }
}

const SHARED_ID = 'CdkLambdaMultiprocessingShmRedirectLayer';
