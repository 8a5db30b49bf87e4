import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { AssetStaging, CfnOutput, DockerImage, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { LibraryBuild } from './library-build';
import { targetOf, TargetArchitecture } from './private/architecture';
import { LIBRARY_PATH_IN_LAYER } from './private/bundling';
import { checkLayersOfApp, registerLayer } from './private/layer-identity';
import { publishedLayerName } from './private/layer-naming';
import { LayerSources } from './private/layer-sources';
import { libraryLayerCode } from './private/library-layer-code';
import { layerParameterName } from './private/parameter-names';
import { ShmRedirectLayer } from './shm-redirect-layer';

/**
 * Properties of a {@link ShmRedirectLayerPublisher}.
 */
export interface ShmRedirectLayerPublisherProps {
  /**
   * How the layers get their library, as for `ShmRedirectLayer`.
   *
   * @default LibraryBuild.AUTO - from source when this machine can, else the prebuilt library
   */
  readonly libraryBuild?: LibraryBuild;

  /**
   * The image the library is built in when Docker is used, as for `ShmRedirectLayer`.
   *
   * @default - `Runtime.PROVIDED_AL2023.bundlingImage`
   */
  readonly libraryBuildImage?: DockerImage;

  /**
   * The architectures to publish a layer for.
   *
   * @default [Architecture.X86_64, Architecture.ARM_64]
   */
  readonly architectures?: lambda.Architecture[];

  /**
   * The start of each layer's name: the layer for one architecture is
   * `<layerName>-<library version, dots as underscores>-<architecture>`, e.g.
   * `shm-redirect-1_0_0-x86_64`, so each library version is a layer of its own.
   *
   * @default 'shm-redirect'
   */
  readonly layerName?: string;

  /**
   * The layers' license information (an SPDX identifier or a URL).
   *
   * @default 'Apache-2.0' - the library's license
   */
  readonly license?: string;

  /**
   * The runtimes the layers declare (Lambda's console and `ListLayers` filter by them).
   *
   * @default - python3.10 to python3.14
   */
  readonly compatibleRuntimes?: lambda.Runtime[];

  /**
   * What happens to the layer versions, their permissions and the versioned
   * SSM parameters when they leave the stack (a new version replaces them, or
   * the stack is deleted). The `latest` parameters always go with the stack.
   *
   * @default RemovalPolicy.RETAIN - functions keep using old versions, and imports pinned to a version keep working
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Accounts allowed to use the layers (`lambda:GetLayerVersion`).
   *
   * @default - none besides this account
   */
  readonly shareWithAccounts?: string[];

  /**
   * An AWS Organizations organization (`o-...`) whose accounts may use the layers.
   *
   * @default - none
   */
  readonly shareWithOrganization?: string;

  /**
   * Lets every AWS account use the layers.
   *
   * @default false
   */
  readonly shareWithEveryone?: boolean;

  /**
   * Where the SSM parameters go: `<parameterPrefix>/<architecture>/latest`
   * and `<parameterPrefix>/<architecture>/<library version>`, each holding the
   * layer version ARN.
   *
   * @default '/cdk-lambda-multiprocessing/shm-redirect'
   */
  readonly parameterPrefix?: string;
}

/**
 * Publishes the shm_redirect layers once, for an organisation or an app:
 * one layer version per architecture, named after the library version, with
 * its license, compatible runtimes and architecture, a description naming
 * the library version and the library's sha256, permissions for other
 * accounts, SSM parameters holding the ARNs (`latest` and per library
 * version) and a `CfnOutput` per architecture.
 *
 * Stacks import the layers with `ShmRedirectLayers` (by ARN, SSM parameter or
 * from this publisher) and `MultiprocessingFixOptions.layers`. Put one
 * publisher stack in each region that needs the layers.
 */
export class ShmRedirectLayerPublisher extends Construct {
  /** Version of the shm_redirect library in the layers. */
  public readonly libraryVersion: string;

  private readonly parameterPrefix?: string;
  private readonly layers = new Map<string, lambda.LayerVersion>();

  public constructor(scope: Construct, id: string, props: ShmRedirectLayerPublisherProps = {}) {
    super(scope, id);
    const sources = LayerSources.bundled();
    this.libraryVersion = sources.version;
    this.parameterPrefix = props.parameterPrefix;
    layerParameterName(props.parameterPrefix, 'x86_64'); // a bad prefix fails here, naming it
    checkSharing(props);

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const architectures = props.architectures ?? [lambda.Architecture.X86_64, lambda.Architecture.ARM_64];
    if (architectures.length === 0) {
      throw new Error(`ShmRedirectLayerPublisher ${this.node.path}: \`architectures\` is empty; leave it unset to publish x86_64 and arm64`);
    }
    for (const architecture of architectures) {
      const target = targetOf(architecture);
      if (this.layers.has(target.name)) {
        throw new Error(`ShmRedirectLayerPublisher ${this.node.path}: \`architectures\` names ${target.name} twice`);
      }
      this.layers.set(target.name, this.publish(target, sources, props, removalPolicy));
    }
    checkLayersOfApp(this);
  }

  /** Whether this publisher has a layer for `architecture`. */
  public publishes(architecture: lambda.Architecture): boolean {
    return this.layers.has(targetOf(architecture).name);
  }

  /** The layer version for `architecture`, undefined when it publishes none for it. */
  public layerFor(architecture: lambda.Architecture): lambda.ILayerVersion | undefined {
    return this.layers.get(targetOf(architecture).name);
  }

  /**
   * The name of the SSM parameter holding the layer version ARN for
   * `architecture`: of the newest version, or of `libraryVersion`.
   *
   * @param libraryVersion a library version this publisher published
   * @default - the `latest` parameter
   */
  public parameterName(architecture: lambda.Architecture, libraryVersion?: string): string {
    return layerParameterName(this.parameterPrefix, targetOf(architecture).name, libraryVersion);
  }

  private publish(
    target: TargetArchitecture,
    sources: LayerSources,
    props: ShmRedirectLayerPublisherProps,
    removalPolicy: RemovalPolicy,
  ): lambda.LayerVersion {
    const id = target.name === 'x86_64' ? 'X86_64' : 'Arm64';
    const library = libraryLayerCode(this, sources, target, props.libraryBuild ?? LibraryBuild.AUTO, props.libraryBuildImage);
    const layer = new lambda.LayerVersion(this, id, {
      code: library.code,
      layerVersionName: publishedLayerName(props.layerName ?? 'shm-redirect', this.libraryVersion, target.name),
      license: props.license ?? 'Apache-2.0',
      compatibleArchitectures: [target.lambda],
      compatibleRuntimes: props.compatibleRuntimes ?? DEFAULT_RUNTIMES,
      removalPolicy,
    });
    // The bundled library exists once the layer's asset is staged, which its constructor did.
    (layer.node.defaultChild as lambda.CfnLayerVersion).description =
      `shm_redirect ${this.libraryVersion} (${target.name}) sha256:${librarySha256(layer) ?? 'unknown (bundling skipped for this stack)'}: ` +
      `Python multiprocessing on Lambda with LD_PRELOAD=${ShmRedirectLayer.PRELOAD}`;
    library.staged(layer);
    registerLayer(layer, { architecture: target.name, libraryVersion: this.libraryVersion, source: `ShmRedirectLayerPublisher ${this.node.path}` });

    for (const [permissionId, principal, organizationId] of principalsOf(props)) {
      const permission = new lambda.CfnLayerVersionPermission(layer, permissionId, {
        action: 'lambda:GetLayerVersion',
        layerVersionArn: layer.layerVersionArn,
        principal,
        organizationId,
      });
      permission.applyRemovalPolicy(removalPolicy);
    }

    const latest = new ssm.StringParameter(this, `${id}Latest`, {
      parameterName: this.parameterName(target.lambda),
      stringValue: layer.layerVersionArn,
      description: `Newest shm_redirect layer version (${target.name}) of ${this.node.path}, now ${this.libraryVersion}`,
    });
    latest.applyRemovalPolicy(RemovalPolicy.DESTROY);
    const versioned = new ssm.StringParameter(this, `${id}Version${this.libraryVersion.replace(/[^a-zA-Z0-9]/g, '_')}`, {
      parameterName: this.parameterName(target.lambda, this.libraryVersion),
      stringValue: layer.layerVersionArn,
      description: `shm_redirect ${this.libraryVersion} layer version (${target.name}) of ${this.node.path}`,
    });
    versioned.applyRemovalPolicy(removalPolicy);

    new CfnOutput(this, `${id}LayerVersionArn`, {
      value: layer.layerVersionArn,
      description: `shm_redirect ${this.libraryVersion} layer version ARN for ${target.name} functions (also in SSM ${this.parameterName(target.lambda)})`,
    });
    return layer;
  }
}

// Made here rather than taken from Runtime's constants, which the floor release lacks for the newest; a function
// accepts a layer whose runtime equals its own in name, family and inline code support.
const DEFAULT_RUNTIMES = ['python3.10', 'python3.11', 'python3.12', 'python3.13', 'python3.14'].map(
  (name) => new lambda.Runtime(name, lambda.RuntimeFamily.PYTHON, { supportsInlineCode: true }),
);

/** The sha256 of the library in the layer's staged asset, or undefined when this synth did not bundle it. */
function librarySha256(layer: lambda.LayerVersion): string | undefined {
  const staging = layer.node.tryFindChild('Code')?.node.tryFindChild('Stage');
  if (!(staging instanceof AssetStaging)) {
    return undefined;
  }
  const library = path.join(staging.absoluteStagedPath, LIBRARY_PATH_IN_LAYER);
  if (!fs.existsSync(library)) {
    return undefined;
  }
  return crypto.createHash('sha256').update(fs.readFileSync(library)).digest('hex');
}

function checkSharing(props: ShmRedirectLayerPublisherProps): void {
  if (props.shareWithEveryone === true && props.shareWithOrganization !== undefined) {
    throw new Error('ShmRedirectLayerPublisher: shareWithEveryone already includes the accounts of shareWithOrganization; give one of them');
  }
  const organization = props.shareWithOrganization;
  if (organization !== undefined && !Token.isUnresolved(organization) && !/^o-[a-z0-9]{10,32}$/.test(organization)) {
    throw new Error(`ShmRedirectLayerPublisher: shareWithOrganization "${organization}" is not an organization ID (o- followed by 10 to 32 lowercase letters or digits)`);
  }
  for (const account of props.shareWithAccounts ?? []) {
    if (!Token.isUnresolved(account) && !/^\d{12}$/.test(account)) {
      throw new Error(`ShmRedirectLayerPublisher: shareWithAccounts holds "${account}", which is not a 12-digit account ID (for every account use shareWithEveryone)`);
    }
  }
}

/** [construct id, principal, organization id] of each LayerVersionPermission. */
function principalsOf(props: ShmRedirectLayerPublisherProps): Array<[string, string, string | undefined]> {
  const principals: Array<[string, string, string | undefined]> = (props.shareWithAccounts ?? []).map((account, index) => [
    Token.isUnresolved(account) ? `Account${index}` : `Account${account}`,
    account,
    undefined,
  ]);
  if (props.shareWithOrganization !== undefined) {
    principals.push(['Organization', '*', props.shareWithOrganization]);
  }
  if (props.shareWithEveryone === true) {
    principals.push(['Everyone', '*', undefined]);
  }
  return principals;
}
