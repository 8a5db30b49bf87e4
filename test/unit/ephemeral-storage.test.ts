import { Size, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { newApp, newStack, pythonFunction, sharedOutdir } from './util';
import { withMultiprocessingFix } from '../../src';

// With the fix, /dev/shm's data lands in /tmp, whose size is the ephemeral storage (issue 27, point 4 of Why).
const outdir = sharedOutdir();
const ID = 'cdk-lambda-multiprocessing:ephemeralStorage';

function hints(stack: Stack): string[] {
  return Annotations.fromStack(stack)
    .findWarning('*', Match.stringLikeRegexp('ephemeral storage'))
    .map((m) => `${m.id}: ${String(m.entry.data)}`);
}

test('a function whose memory is far above its ephemeral storage gets one warning with an id', () => {
  const stack = newStack(newApp(outdir));
  pythonFunction(stack, 'Big', { memorySize: 3008 });
  pythonFunction(stack, 'Sized', { memorySize: 3008, ephemeralStorageSize: Size.mebibytes(2048) });
  pythonFunction(stack, 'Small', { memorySize: 1024 });
  withMultiprocessingFix(stack);

  expect(hints(stack)).toEqual([
    expect.stringMatching(
      new RegExp(`^/Stack/Big: Stack/Big has 3008 MB of memory but 512 MB of ephemeral storage: .*pickle data was truncated.*raise \`ephemeralStorageSize\`; otherwise acknowledge ${ID}\\. \\[ack: ${ID}\\]$`),
    ),
  ]);
});

test('functions the fix leaves alone get no hint', () => {
  const stack = newStack(newApp(outdir));
  pythonFunction(stack, 'Big', { memorySize: 3008 });
  expect(hints(stack)).toEqual([]);
});
