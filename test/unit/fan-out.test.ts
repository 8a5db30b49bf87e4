import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { PRELOAD, sharedOutdir } from './util';
import { FanOutExampleStack } from '../../examples/fan-out';

// The fan-out example (examples/fan-out.ts): a Distributed Map over the execution's items, in batches, each
// batch one invocation of a worker that carries the fix. Its worker runs in test/integration/test_lifecycle.py.
test('the fan-out example is a Distributed Map whose worker carries the fix', () => {
  const stack = new FanOutExampleStack(new App({ outdir: sharedOutdir() }), 'FanOut');
  const template = Template.fromStack(stack);

  template.hasResourceProperties('AWS::Lambda::Function', {
    Handler: 'fan_out_worker.handler',
    Runtime: 'python3.12',
    Architectures: ['arm64'],
    MemorySize: 10240,
    Environment: { Variables: { LD_PRELOAD: PRELOAD } },
    Layers: Match.arrayWith([Match.objectLike({ Ref: Match.anyValue() })]),
  });

  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const definition = JSON.stringify(machine.Properties.DefinitionString);
  expect(definition).toMatch(/\\"Type\\":\\"Map\\"/);
  expect(definition).toMatch(/\\"Mode\\":\\"DISTRIBUTED\\"/);
  expect(definition).toMatch(/\\"ItemsPath\\":\\"\$\.items\\"/);
  expect(definition).toMatch(/\\"MaxItemsPerBatch\\":24/);
  // Each batch is one direct invocation of the worker (payloadResponseOnly: the task's Resource is its ARN).
  expect(definition).toMatch(/\{"Fn::GetAtt":\["Worker[0-9A-F]{8}","Arn"\]\}/);
});
