import * as fs from 'fs';
import * as path from 'path';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App } from 'aws-cdk-lib';
import { ControlStack, FIXED_FUNCTIONS, MultiprocessingExampleStack } from '../../examples/stacks';

// The same stacks as the example app, checked against real Lambda by `npx integ-runner --update-on-failed`
// (an AWS account) and, without one, by `npx projen integ:snapshot` against the committed snapshot. The
// local invoker (test/integration/invoker.py) checks the same expected results in a Lambda-like sandbox.
const expected: Record<string, object> = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'expected.json'), 'utf8'));

const app = new App();
const fixed = new MultiprocessingExampleStack(app, 'IntegMultiprocessingExample');
const control = new ControlStack(app, 'IntegMultiprocessingControl');
const integ = new IntegTest(app, 'MultiprocessingOnLambda', { testCases: [fixed, control] });

// A handler `module.handler` returns the result of workload `module` (all_workloads: every one of them).
for (const spec of FIXED_FUNCTIONS) {
  const workload = spec.handler.split('.')[0];
  const want = workload === 'all_workloads'
    ? { workload: 'all', results: expected }
    : { workload, ...expected[workload] };
  integ.assertions.invokeFunction({ functionName: fixed.functions[spec.id].functionName, payload: '{}' })
    .expect(ExpectedResult.objectLike({ Payload: Match.serializedJson(Match.objectLike(want)) }));
}

// Without the fix the first multiprocessing.Lock fails: ENOENT (/dev/shm) on AL2023, ENOSYS on AL2.
for (const fn of Object.values(control.functions)) {
  integ.assertions.invokeFunction({ functionName: fn.functionName, payload: '{}' })
    .expect(ExpectedResult.objectLike({
      FunctionError: 'Unhandled',
      Payload: Match.serializedJson(Match.objectLike({
        errorType: Match.stringLikeRegexp('^(FileNotFoundError|OSError)$'),
      })),
    }));
}

app.synth();
