import * as path from 'path';
import { Duration, Stack, StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { withMultiprocessingFix } from '../src';

/** The handlers, one asset shared by every function (examples/functions/*.py). */
const CODE_DIR = path.join(__dirname, 'functions');

/** One example function: which workload it runs, where. */
export interface ExampleFunction {
  readonly id: string;
  readonly handler: string;
  readonly runtime: lambda.Runtime;
  readonly architecture: lambda.Architecture;
}

const { PYTHON_3_11, PYTHON_3_12, PYTHON_3_13 } = lambda.Runtime;
const { X86_64, ARM_64 } = lambda.Architecture;

/**
 * Each workload once, spread over an AL2 runtime (python3.11, glibc 2.26 on Lambda) and AL2023 ones
 * (python3.12/3.13, glibc 2.34); then every workload in one invocation on each runtime and on arm64.
 */
export const FIXED_FUNCTIONS: ExampleFunction[] = [
  { id: 'PoolMap', handler: 'pool_map.handler', runtime: PYTHON_3_12, architecture: X86_64 },
  { id: 'IoFanout', handler: 'io_fanout.handler', runtime: PYTHON_3_13, architecture: X86_64 },
  { id: 'ProcessPool', handler: 'process_pool.handler', runtime: PYTHON_3_11, architecture: X86_64 },
  { id: 'SharedMemory', handler: 'shared_memory_handoff.handler', runtime: PYTHON_3_12, architecture: X86_64 },
  { id: 'ValueLock', handler: 'value_lock.handler', runtime: PYTHON_3_11, architecture: X86_64 },
  { id: 'QueuePipeline', handler: 'queue_pipeline.handler', runtime: PYTHON_3_13, architecture: X86_64 },
  { id: 'AllPy311', handler: 'all_workloads.handler', runtime: PYTHON_3_11, architecture: X86_64 },
  { id: 'AllPy312', handler: 'all_workloads.handler', runtime: PYTHON_3_12, architecture: X86_64 },
  { id: 'AllPy313', handler: 'all_workloads.handler', runtime: PYTHON_3_13, architecture: X86_64 },
  { id: 'AllPy311Arm', handler: 'all_workloads.handler', runtime: PYTHON_3_11, architecture: ARM_64 },
  { id: 'AllPy312Arm', handler: 'all_workloads.handler', runtime: PYTHON_3_12, architecture: ARM_64 },
];

/** Functions left without the fix: they must fail the way Lambda fails them. */
export const CONTROL_FUNCTIONS: ExampleFunction[] = [
  { id: 'ControlPy311', handler: 'value_lock.handler', runtime: PYTHON_3_11, architecture: X86_64 },
  { id: 'ControlPy312', handler: 'value_lock.handler', runtime: PYTHON_3_12, architecture: X86_64 },
];

function addFunctions(scope: Construct, specs: ExampleFunction[]): Record<string, lambda.Function> {
  const functions: Record<string, lambda.Function> = {};
  for (const spec of specs) {
    functions[spec.id] = new lambda.Function(scope, spec.id, {
      code: lambda.Code.fromAsset(CODE_DIR, { exclude: ['__pycache__', '*.pyc'] }),
      handler: spec.handler,
      runtime: spec.runtime,
      architecture: spec.architecture,
      // Lambda gives a function CPU in proportion to its memory; 1769 MB is one full vCPU.
      memorySize: 1769,
      timeout: Duration.seconds(60),
    });
  }
  return functions;
}

/** Props of the example stacks: the functions to add (default: the stack's own list). */
export interface ExampleStackProps extends StackProps {
  readonly functions?: ExampleFunction[];
}

/** Python functions doing real multiprocessing work, fixed by one line. */
export class MultiprocessingExampleStack extends Stack {
  public readonly functions: Record<string, lambda.Function>;

  constructor(scope: Construct, id: string, props?: ExampleStackProps) {
    super(scope, id, props);
    this.functions = addFunctions(this, props?.functions ?? FIXED_FUNCTIONS);
    withMultiprocessingFix(this);
  }
}

/** The same kind of function without the fix, in a stack the aspect never sees. */
export class ControlStack extends Stack {
  public readonly functions: Record<string, lambda.Function>;

  constructor(scope: Construct, id: string, props?: ExampleStackProps) {
    super(scope, id, props);
    this.functions = addFunctions(this, props?.functions ?? CONTROL_FUNCTIONS);
  }
}
