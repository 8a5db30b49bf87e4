import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * Decides which functions {@link MultiprocessingFix} gives the layer and
 * `LD_PRELOAD`. Implement it for your own rule, or use {@link FunctionFilter}.
 */
export interface IFunctionFilter {
  /** Whether `fn` gets the fix. */
  includes(fn: lambda.Function): boolean;
}

/**
 * Ready-made {@link IFunctionFilter}s.
 */
export class FunctionFilter {
  /** Functions whose runtime is of the Python family (the default). */
  public static pythonRuntimes(): IFunctionFilter {
    return { includes: (fn) => fn.runtime.family === lambda.RuntimeFamily.PYTHON };
  }

  /**
   * Functions of every runtime: for runtimes that start Python themselves,
   * such as a custom runtime (`provided.al2023`) that embeds an interpreter.
   */
  public static allRuntimes(): IFunctionFilter {
    return { includes: () => true };
  }

  /** Functions whose runtime is one of `runtimes` (compared by name). */
  public static runtimes(runtimes: lambda.Runtime[]): IFunctionFilter {
    const names = new Set(runtimes.map((r) => r.name));
    return { includes: (fn) => names.has(fn.runtime.name) };
  }

  private constructor() {}
}
