import * as path from 'path';
import { App, Stack, StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { MultiprocessingFix, ShmRedirectLayers } from '../src';

/**
 * Another team's app, using the layers a platform team published (examples/publish-layers.ts) in each of the
 * ways `ShmRedirectLayers` offers: one stack per way.
 *
 *   cdk deploy --app 'npx ts-node --prefer-ts-exts examples/import-layers.ts' -c account=111122223333 \
 *     -c region=eu-west-1 -c libraryVersion=1.0.0 -c x86LayerArn=<arn> -c arm64LayerArn=<arn> --all
 *
 * test/integration/deploy-local deploys it after the publisher.
 */
export class ImportingStack extends Stack {
  public constructor(scope: Construct, id: string, props: StackProps & { readonly layers: ShmRedirectLayers }) {
    super(scope, id, props);
    for (const [name, architecture] of [['PoolX86', lambda.Architecture.X86_64], ['PoolArm', lambda.Architecture.ARM_64]] as const) {
      new lambda.Function(this, name, {
        runtime: lambda.Runtime.PYTHON_3_12,
        architecture,
        handler: 'pool_map.handler',
        code: lambda.Code.fromAsset(path.join(__dirname, 'functions')),
      });
    }
    MultiprocessingFix.applyTo(this, { layers: props.layers });
  }
}

export interface ImportLayersAppOptions {
  readonly account: string;
  readonly region: string;
  /** Pins the SSM forms to this library version's parameters. @default - the `latest` parameters */
  readonly libraryVersion?: string;
  /** Layer version ARNs, e.g. another account's: adds the `ImportByArn` stack. */
  readonly arns?: { readonly x86?: string; readonly arm64?: string };
}

/** `ImportBySsm` (deploy-time parameters), `ImportByLookup` (synth-time lookup) and, with ARNs, `ImportByArn`. */
export function importLayersApp(app: App, options: ImportLayersAppOptions): Stack[] {
  const env = { account: options.account, region: options.region };
  const parameters = { libraryVersion: options.libraryVersion };
  const stacks: Stack[] = [
    new ImportingStack(app, 'ImportBySsm', { env, layers: ShmRedirectLayers.fromSsmParameters(parameters) }),
    new ImportingStack(app, 'ImportByLookup', { env, layers: ShmRedirectLayers.fromSsmLookup(parameters) }),
  ];
  if (options.arns !== undefined) {
    stacks.push(new ImportingStack(app, 'ImportByArn', { env, layers: ShmRedirectLayers.fromArns(options.arns) }));
  }
  return stacks;
}

if (require.main === module) {
  const app = new App();
  const context = (key: string): string | undefined => app.node.tryGetContext(key);
  const account = context('account') ?? process.env.CDK_DEFAULT_ACCOUNT;
  const region = context('region') ?? process.env.CDK_DEFAULT_REGION;
  if (account === undefined || region === undefined) {
    throw new Error('examples/import-layers.ts: give -c account=<12 digits> -c region=<region> (or credentials the CDK CLI can use)');
  }
  const x86 = context('x86LayerArn');
  const arm64 = context('arm64LayerArn');
  importLayersApp(app, {
    account,
    region,
    libraryVersion: context('libraryVersion'),
    arns: x86 !== undefined || arm64 !== undefined ? { x86, arm64 } : undefined,
  });
  app.synth();
}
