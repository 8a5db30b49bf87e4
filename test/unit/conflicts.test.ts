import { Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { newApp, newStack, pythonFunction, sharedOutdir } from './util';
import { LibraryBuild, ShmRedirectLayer, withMultiprocessingFix } from '../../src';

// Two fixes reach one function with different layer options: the one closest to the function applies, and the
// other is not dropped silently (issue 27.3).
const outdir = sharedOutdir();
const CONFLICT = 'cdk-lambda-multiprocessing:conflictingOptions';

function warnings(stack: Stack): { path: string; text: string }[] {
  return Annotations.fromStack(stack)
    .findWarning('*', Match.anyValue())
    .map((m) => ({ path: m.id, text: String(m.entry.data) }));
}

function errors(stack: Stack): { path: string; text: string }[] {
  return Annotations.fromStack(stack)
    .findError('*', Match.anyValue())
    .map((m) => ({ path: m.id, text: String(m.entry.data) }));
}

test('a stack-level PREBUILT and a function-level FROM_SOURCE: the function\'s applies, with a warning naming both places', () => {
  const app = newApp(outdir);
  const stack = newStack(app, 'Workers');
  const fn = pythonFunction(stack, 'Fn');
  withMultiprocessingFix(stack, { layerProps: { libraryBuild: LibraryBuild.PREBUILT } });
  withMultiprocessingFix(fn, { layerProps: { libraryBuild: LibraryBuild.FROM_SOURCE } });

  const found = warnings(stack);
  expect(found).toHaveLength(1);
  expect(found[0].path).toBe('/Workers/Fn');
  expect(found[0].text).toMatch(
    /at Workers \(libraryBuild: LibraryBuild.PREBUILT\) and at Workers\/Fn \(libraryBuild: LibraryBuild.FROM_SOURCE\): the one closest to the function applies, Workers\/Fn's\..*acknowledge cdk-lambda-multiprocessing:conflictingOptions/,
  );
  expect(found[0].text).toContain(`[ack: ${CONFLICT}]`);
  expect(() => ShmRedirectLayer.of(stack, { libraryBuild: LibraryBuild.FROM_SOURCE })).not.toThrow();
});

test('the same with a second function of the stack: one layer cannot be both, an error names both places', () => {
  const app = newApp(outdir);
  const stack = newStack(app, 'Workers');
  pythonFunction(stack, 'Plain');
  const special = pythonFunction(stack, 'Special');
  withMultiprocessingFix(stack, { layerProps: { libraryBuild: LibraryBuild.PREBUILT } });
  withMultiprocessingFix(special, { layerProps: { libraryBuild: LibraryBuild.FROM_SOURCE } });

  const found = errors(stack);
  expect(found).toHaveLength(1);
  expect(found[0].path).toBe('/Workers/Special');
  expect(found[0].text).toMatch(
    /^Workers\/Special: the fix at Workers\/Special asks for libraryBuild: LibraryBuild.FROM_SOURCE, but the shared layer of stack Workers was made for Workers\/Plain by the fix at Workers with libraryBuild: LibraryBuild.PREBUILT; .*pass a ShmRedirectLayer of your own as `layer`/,
  );
});

test('an app-level default and a stack-level PREBUILT: the stack\'s layer is PREBUILT, with a warning naming both', () => {
  const app = newApp(outdir);
  const stack = newStack(app, 'Workers');
  pythonFunction(stack, 'Fn');
  withMultiprocessingFix(app);
  withMultiprocessingFix(stack, { layerProps: { libraryBuild: LibraryBuild.PREBUILT } });

  const found = warnings(stack);
  expect(found.map((w) => w.text)).toEqual([expect.stringMatching(/at the app \(libraryBuild: LibraryBuild.AUTO\) and at Workers \(libraryBuild: LibraryBuild.PREBUILT\)/)]);
  expect(() => ShmRedirectLayer.of(stack, { libraryBuild: LibraryBuild.PREBUILT })).not.toThrow();
});

test('the same options given twice (app and stack) are no conflict', () => {
  const app = newApp(outdir);
  const stack = newStack(app, 'Workers');
  pythonFunction(stack, 'Fn');
  withMultiprocessingFix(app, { layerProps: { libraryBuild: LibraryBuild.PREBUILT } });
  withMultiprocessingFix(stack, { layerProps: { libraryBuild: LibraryBuild.PREBUILT } });
  expect(warnings(stack)).toEqual([]);
  expect(errors(stack)).toEqual([]);
});
