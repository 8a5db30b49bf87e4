import * as path from 'path';
import { Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { withMultiprocessingFix } from '../src';

/**
 * Beyond one function's 6 vCPUs: a Step Functions Distributed Map hands batches of the execution's `items` to
 * many concurrent invocations of one worker function, and each worker spreads its batch over a Pool of
 * os.cpu_count() processes (examples/functions/fan_out_worker.py), which the fix makes work on Lambda.
 *
 * Start it with `{"items": [{"lo": 0, "hi": 100000}, {"lo": 100000, "hi": 200000}, ...]}`.
 */
export class FanOutExampleStack extends Stack {
  public readonly worker: lambda.Function;
  public readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.worker = new lambda.Function(this, 'Worker', {
      code: lambda.Code.fromAsset(path.join(__dirname, 'functions'), { exclude: ['__pycache__', '*.pyc'] }),
      handler: 'fan_out_worker.handler',
      runtime: lambda.Runtime.PYTHON_3_12,
      architecture: lambda.Architecture.ARM_64,
      // 10240 MB is Lambda's maximum and brings its 6 vCPUs: os.cpu_count() processes each get one.
      memorySize: 10240,
      timeout: Duration.minutes(5),
    });
    const fanOut = new sfn.DistributedMap(this, 'FanOut', {
      itemsPath: sfn.JsonPath.stringAt('$.items'),
      // One invocation takes a batch, so each Pool has several items per process to share out.
      itemBatcher: new sfn.ItemBatcher({ maxItemsPerBatch: 24 }),
      maxConcurrency: 50,
      resultPath: '$.batches',
    });
    fanOut.itemProcessor(new tasks.LambdaInvoke(this, 'CountPrimes', {
      lambdaFunction: this.worker,
      payloadResponseOnly: true,
      retryOnServiceExceptions: true,
    }));
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(fanOut),
      timeout: Duration.hours(1),
    });
    withMultiprocessingFix(this);
  }
}
