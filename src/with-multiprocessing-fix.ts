import { IConstruct } from 'constructs';
import { MultiprocessingFix, MultiprocessingFixOptions } from './multiprocessing-fix';

/**
 * Makes Python `multiprocessing` work in every Lambda function of `scope`
 * (a stack, an app, any construct, or one function). TypeScript only: other
 * languages call `MultiprocessingFix.applyTo(scope, options)`, which this is
 * the same as.
 */
export function withMultiprocessingFix<T extends IConstruct>(scope: T, options?: MultiprocessingFixOptions): T {
  MultiprocessingFix.applyTo(scope, options);
  return scope;
}
