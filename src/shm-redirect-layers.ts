import * as crypto from 'crypto';
import { Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { IConstruct } from 'constructs';
import { targetOf, TargetArchitecture } from './private/architecture';
import { checkLayersOfApp, identityOf, registerLayer } from './private/layer-identity';
import { layerNameParts } from './private/layer-naming';
import { layerParameterName } from './private/parameter-names';
import { ShmRedirectLayerPublisher } from './shm-redirect-layer-publisher';

/**
 * Layer version ARNs of a published shm_redirect layer, one per architecture.
 */
export interface ShmRedirectLayerArns {
  /**
   * The layer version ARN for x86_64 functions, e.g.
   * `arn:aws:lambda:eu-west-1:111122223333:layer:shm-redirect-1_0_0-x86_64:1`.
   *
   * @default - none: an x86_64 function the fix covers is a synth error
   */
  readonly x86?: string;

  /**
   * The layer version ARN for arm64 functions.
   *
   * @default - none: an arm64 function the fix covers is a synth error
   */
  readonly arm64?: string;

  /**
   * The library version these layers hold, recorded in each function's
   * metadata.
   *
   * @default - read from the layer name when it is a ShmRedirectLayerPublisher's (`<name>-<version>-<architecture>`), else not recorded
   */
  readonly libraryVersion?: string;
}

/**
 * Where a {@link ShmRedirectLayerPublisher} wrote its SSM parameters, and
 * which of them to read.
 */
export interface ShmRedirectLayerParameterOptions {
  /**
   * The publisher's `parameterPrefix`.
   *
   * @default '/cdk-lambda-multiprocessing/shm-redirect'
   */
  readonly parameterPrefix?: string;

  /**
   * Pins the library version: reads `<prefix>/<architecture>/<version>`,
   * which the publisher keeps when it publishes a newer version.
   *
   * @default - `<prefix>/<architecture>/latest`, the newest version published
   */
  readonly libraryVersion?: string;
}

/**
 * shm_redirect layers published elsewhere (by a
 * {@link ShmRedirectLayerPublisher}, in this app or another, this account or
 * another), for `MultiprocessingFixOptions.layers`. Each function gets the
 * layer of its own architecture; a function whose architecture has none is a
 * synth error that names it.
 */
export abstract class ShmRedirectLayers {
  /**
   * Layer version ARNs, for instance of another account (the publisher must
   * share them with yours): no lookup, nothing read at deploy time.
   */
  public static fromArns(arns: ShmRedirectLayerArns): ShmRedirectLayers {
    const given: Record<string, string | undefined> = { x86_64: arns.x86, arm64: arns.arm64 };
    if (given.x86_64 === undefined && given.arm64 === undefined) {
      throw new Error('ShmRedirectLayers.fromArns: give the layer version ARN of at least one architecture (`x86` for x86_64, `arm64`)');
    }
    for (const [architecture, arn] of Object.entries(given)) {
      if (arn !== undefined) {
        checkLiteralArn(arn, architecture, 'ShmRedirectLayers.fromArns');
      }
    }
    return new ImportedLayers('ShmRedirectLayers.fromArns', (_stack, target) => {
      const arn = given[target.name];
      return arn === undefined
        ? undefined
        : { arn, libraryVersion: arns.libraryVersion ?? versionInArn(arn), source: Token.isUnresolved(arn) ? 'ShmRedirectLayers.fromArns' : arn };
    });
  }

  /**
   * The layer version ARNs a {@link ShmRedirectLayerPublisher} keeps in SSM
   * parameters of the account and region the stack deploys to, read by
   * CloudFormation at deploy time (`AWS::SSM::Parameter::Value<String>`
   * template parameters): every `cdk deploy` takes the value current then,
   * and the stack needs no account or region at synth time.
   */
  public static fromSsmParameters(options: ShmRedirectLayerParameterOptions = {}): ShmRedirectLayers {
    const prefix = options.parameterPrefix;
    layerParameterName(prefix, 'x86_64', options.libraryVersion); // refuses a bad prefix here rather than at synth
    return new ImportedLayers('ShmRedirectLayers.fromSsmParameters', (stack, target) => {
      const name = layerParameterName(prefix, target.name, options.libraryVersion);
      return {
        arn: ssm.StringParameter.valueForStringParameter(stack, name),
        libraryVersion: options.libraryVersion,
        source: `SSM parameter ${name} (read at deploy time)`,
      };
    });
  }

  /**
   * The same parameters as {@link fromSsmParameters}, read at synth time by
   * the CDK CLI (a context lookup, cached in `cdk.context.json`): the template
   * holds the ARN itself, so a new version reaches the stack only when the
   * cached value is refreshed (`cdk context --reset`). Needs a stack with an
   * explicit account and region.
   */
  public static fromSsmLookup(options: ShmRedirectLayerParameterOptions = {}): ShmRedirectLayers {
    const prefix = options.parameterPrefix;
    layerParameterName(prefix, 'x86_64', options.libraryVersion);
    return new ImportedLayers('ShmRedirectLayers.fromSsmLookup', (stack, target) => {
      const name = layerParameterName(prefix, target.name, options.libraryVersion);
      if (Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region)) {
        throw new Error(
          `ShmRedirectLayers.fromSsmLookup reads ${name} at synth time, which needs the account and region of stack ${stack.node.path}: ` +
            'give the stack an `env` (account and region), or use ShmRedirectLayers.fromSsmParameters, which CloudFormation reads at deploy time.',
        );
      }
      const arn = ssm.StringParameter.valueFromLookup(stack, name);
      return {
        arn,
        libraryVersion: options.libraryVersion ?? versionInArn(arn),
        source: `SSM parameter ${name} (looked up at synth time)`,
      };
    });
  }

  /**
   * The layers of a {@link ShmRedirectLayerPublisher} of this app. In the
   * publisher's own stack, its layer versions; in another stack of the same
   * account and region, the SSM parameter of the publisher's library
   * version, read at deploy time, and a dependency on the publisher's stack.
   * No CloudFormation export ties the stacks, so the publisher's stack can
   * publish new versions while other stacks use the old ones.
   */
  public static fromPublisher(publisher: ShmRedirectLayerPublisher): ShmRedirectLayers {
    return new ImportedLayers(`ShmRedirectLayers.fromPublisher(${publisher.node.path})`, (stack, target, scope) => {
      const own = Stack.of(publisher);
      if (!publisher.publishes(target.lambda)) {
        return undefined;
      }
      if (stack === own) {
        const layer = publisher.layerFor(target.lambda)!;
        return { layer };
      }
      for (const [what, mine, theirs] of [['account', stack.account, own.account], ['region', stack.region, own.region]]) {
        if (!Token.isUnresolved(mine) && !Token.isUnresolved(theirs) && mine !== theirs) {
          throw new Error(
            `${scope.node.path} is in ${what} ${mine} but ShmRedirectLayerPublisher ${publisher.node.path} publishes in ${theirs}: ` +
              'a layer is used where it is published (SSM parameters do not cross accounts or regions). ' +
              `Publish it in ${mine} too (one publisher stack per region), or import it with ShmRedirectLayers.fromArns and share it with the account (shareWithAccounts).`,
          );
        }
      }
      // node.addDependency between two stacks orders their deployment (Stack.addDependency is deprecated, its successor not in the floor release).
      stack.node.addDependency(own);
      const name = publisher.parameterName(target.lambda, publisher.libraryVersion);
      return {
        arn: ssm.StringParameter.valueForStringParameter(stack, name),
        libraryVersion: publisher.libraryVersion,
        source: `ShmRedirectLayerPublisher ${publisher.node.path}: SSM parameter ${name}`,
      };
    });
  }

  /** What these layers are, as error messages name them. */
  public abstract readonly description: string;

  /**
   * The layer version for functions of `architecture` in the stack of
   * `scope`, imported into that stack on first use; undefined when there is
   * none for that architecture.
   */
  public abstract layerFor(scope: IConstruct, architecture: lambda.Architecture): lambda.ILayerVersion | undefined;
}

/** A layer to import (its ARN and what is known of it) or a layer at hand. */
type Found =
  | { readonly arn: string; readonly libraryVersion?: string; readonly source: string }
  | { readonly layer: lambda.ILayerVersion };

class ImportedLayers extends ShmRedirectLayers {
  public constructor(
    public readonly description: string,
    private readonly find: (stack: Stack, target: TargetArchitecture, scope: IConstruct) => Found | undefined,
  ) {
    super();
  }

  public layerFor(scope: IConstruct, architecture: lambda.Architecture): lambda.ILayerVersion | undefined {
    const target = targetOf(architecture);
    const stack = Stack.of(scope);
    const found = this.find(stack, target, scope);
    if (found === undefined || 'layer' in found) {
      return found?.layer;
    }
    const rendered = JSON.stringify(stack.resolve(found.arn));
    const id = `CdkLambdaMultiprocessingLayer${target.name === 'x86_64' ? 'X86_64' : 'Arm64'}${crypto.createHash('sha256').update(rendered).digest('hex').slice(0, 8)}`;
    const existing = stack.node.tryFindChild(id) as lambda.ILayerVersion | undefined;
    if (existing !== undefined && identityOf(existing) !== undefined) {
      return existing;
    }
    const layer = lambda.LayerVersion.fromLayerVersionArn(stack, id, found.arn);
    registerLayer(layer, { architecture: target.name, libraryVersion: found.libraryVersion, source: found.source });
    checkLayersOfApp(stack);
    return layer;
  }
}

/** A literal layer version ARN must name a version, and a publisher's layer of the same architecture. */
function checkLiteralArn(arn: string, architecture: string, where: string): void {
  if (Token.isUnresolved(arn)) {
    return;
  }
  if (!/^arn:[a-z-]+:lambda:[a-z0-9-]+:\d{12}:layer:[a-zA-Z0-9_-]+:\d+$/.test(arn)) {
    throw new Error(`${where}: "${arn}" (${architecture}) is not a layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)`);
  }
  const parts = layerNameParts(arn.split(':')[6]);
  if (parts !== undefined && parts.architecture !== architecture) {
    throw new Error(
      `${where}: the ${architecture} ARN ${arn} names a layer ShmRedirectLayerPublisher published for ${parts.architecture}; ` +
        `Lambda would skip its library on ${architecture} functions without a word. Give it as \`${parts.architecture === 'x86_64' ? 'x86' : 'arm64'}\`.`,
    );
  }
}

function versionInArn(arn: string): string | undefined {
  if (Token.isUnresolved(arn)) {
    return undefined;
  }
  const name = arn.split(':')[6];
  return name === undefined ? undefined : layerNameParts(name)?.libraryVersion;
}
