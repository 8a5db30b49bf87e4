import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export const PRELOAD = '/opt/lib/shm_redirect.so';

/**
 * One cdk.out per test file: CDK reuses a bundled asset already in the
 * outdir, so the library is compiled once per architecture per file.
 */
export function sharedOutdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'clm-jest-'));
}

export function newApp(outdir: string): App {
  return new App({ outdir });
}

export function newStack(app: Construct, id = 'Stack', props?: StackProps): Stack {
  return new Stack(app, id, props);
}

export function pythonFunction(scope: Construct, id: string, props: Partial<lambda.FunctionProps> = {}): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime: lambda.Runtime.PYTHON_3_12,
    handler: 'index.handler',
    code: lambda.Code.fromInline('def handler(event, context):\n    return None\n'),
    ...props,
  });
}

/** What layer/build.sh and layer/audit.sh run besides the compiler and readelf. */
export const SHELL_TOOLS = ['sh', 'uname', 'mkdir', 'rm', 'ls', 'sed', 'mv', 'cat', 'dirname', 'grep', 'sort', 'tr', 'head', 'tail', 'awk', 'wc'];

/**
 * A new directory under `parent` holding only `tools` (symlinks to the
 * host's): a PATH without compilers or Docker, to which a test adds fakes.
 */
export function pathWith(parent: string, tools: string[]): string {
  const dir = fs.mkdtempSync(path.join(parent, 'bin-'));
  for (const tool of tools) {
    const found = ['/usr/bin', '/bin'].map((d) => path.join(d, tool)).find((f) => fs.existsSync(f));
    if (found === undefined) {
      throw new Error(`test needs ${tool} on the host`);
    }
    fs.symlinkSync(found, path.join(dir, tool));
  }
  return dir;
}
