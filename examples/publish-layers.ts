import * as path from 'path';
import { App, Stack, StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { MultiprocessingFix, ShmRedirectLayerPublisher, ShmRedirectLayerPublisherProps, ShmRedirectLayers } from '../src';

/**
 * A platform team's app: the shm_redirect layers published once per region (one stack per region), shared
 * with the organisation, and a workload stack that imports them from the publisher of its region.
 *
 *   cdk deploy --app 'npx ts-node --prefer-ts-exts examples/publish-layers.ts' \
 *     -c account=111122223333 -c regions=eu-west-1,us-east-1 -c organization=o-a1b2c3d4e5 --all
 *
 * Other teams' stacks, in any app and account the layers are shared with, import them with
 * `ShmRedirectLayers.fromSsmParameters()` (same account) or `ShmRedirectLayers.fromArns(...)` (the ARNs are
 * the stacks' outputs); see docs/platform-teams.md. test/integration/deploy-local deploys this app.
 */
export class LayerPublisherStack extends Stack {
  public readonly publisher: ShmRedirectLayerPublisher;

  public constructor(scope: Construct, id: string, props: StackProps & { readonly publisher?: ShmRedirectLayerPublisherProps }) {
    super(scope, id, props);
    this.publisher = new ShmRedirectLayerPublisher(this, 'ShmRedirect', props.publisher);
  }
}

/** A workload of the same app: its functions take the layers of the publisher in their region. */
export class WorkloadStack extends Stack {
  public constructor(scope: Construct, id: string, props: StackProps & { readonly publisher: ShmRedirectLayerPublisher }) {
    super(scope, id, props);
    for (const [name, architecture] of [['PoolX86', lambda.Architecture.X86_64], ['PoolArm', lambda.Architecture.ARM_64]] as const) {
      new lambda.Function(this, name, {
        runtime: lambda.Runtime.PYTHON_3_12,
        architecture,
        handler: 'pool_map.handler',
        code: lambda.Code.fromAsset(path.join(__dirname, 'functions')),
      });
    }
    MultiprocessingFix.applyTo(this, { layers: ShmRedirectLayers.fromPublisher(props.publisher) });
  }
}

export interface PublishLayersAppOptions {
  readonly account: string;
  /** One publisher stack per region; the workload goes to the first. */
  readonly regions: string[];
  readonly publisher?: ShmRedirectLayerPublisherProps;
}

/** The publisher stacks (`ShmRedirectLayers-<region>`) and the workload stack (`Workload`). */
export function publishLayersApp(app: App, options: PublishLayersAppOptions): { publishers: LayerPublisherStack[]; workload: WorkloadStack } {
  if (options.regions.length === 0) {
    throw new Error('publishLayersApp: give at least one region');
  }
  const publishers = options.regions.map(
    (region) => new LayerPublisherStack(app, `ShmRedirectLayers-${region}`, { env: { account: options.account, region }, publisher: options.publisher }),
  );
  const workload = new WorkloadStack(app, 'Workload', { env: { account: options.account, region: options.regions[0] }, publisher: publishers[0].publisher });
  return { publishers, workload };
}

if (require.main === module) {
  const app = new App();
  const context = (key: string): string | undefined => app.node.tryGetContext(key);
  const account = context('account') ?? process.env.CDK_DEFAULT_ACCOUNT;
  if (account === undefined) {
    throw new Error('examples/publish-layers.ts: give the account with -c account=<12 digits> (or credentials the CDK CLI can use)');
  }
  const organization = context('organization');
  publishLayersApp(app, {
    account,
    regions: (context('regions') ?? process.env.CDK_DEFAULT_REGION ?? 'us-east-1').split(','),
    publisher: {
      shareWithOrganization: organization,
      shareWithAccounts: context('shareWithAccounts')?.split(','),
    },
  });
  app.synth();
}
