// Synth time of an app of N Python functions (stacks of up to 100) without the aspect, with it on a cdk.out that already holds the
// built layer (a repeated `cdk synth`), and with it on a fresh cdk.out (the layer's library is compiled).
// Run by bench/driver.py through ts-node; prints one JSON object {N: {without, warm, cold: [seconds]}}.
//
// One process serves all variants, interleaved in rotated order per repetition, after an untimed warm-up so
// that module loading and the JIT do not land on whichever variant runs first.
import * as fs from 'fs';
import * as path from 'path';
import { App, AssetStaging, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { withMultiprocessingFix } from '../src';

// CloudFormation takes at most 500 resources per stack and each function brings a role: large apps split.
const FUNCTIONS_PER_STACK = 100;

type Variant = 'without' | 'warm' | 'cold';
const VARIANTS: Variant[] = ['without', 'warm', 'cold'];

function usage(message: string): never {
  process.stderr.write(`synth.ts: ${message}\nusage: synth.ts --sizes N[,N...] --reps N --outdir DIR\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): { sizes: number[]; reps: number; outdir: string } {
  const opts = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    if (!['--sizes', '--reps', '--outdir'].includes(argv[i]) || argv[i + 1] === undefined) {
      usage(`bad argument ${argv[i]}`);
    }
    opts.set(argv[i], argv[i + 1]);
  }
  const positive = (s: string | undefined, what: string): number => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) usage(`${what} must be a positive integer, got ${s}`);
    return n;
  };
  const outdir = opts.get('--outdir') ?? usage('--outdir is required');
  return {
    sizes: (opts.get('--sizes') ?? usage('--sizes is required')).split(',').map((s) => positive(s, '--sizes')),
    reps: positive(opts.get('--reps'), '--reps'),
    outdir: path.resolve(outdir),
  };
}

function synthOnce(functions: number, variant: Variant, outdir: string): number {
  // A new `cdk synth` process starts with an empty asset cache; only the files in cdk.out carry over.
  AssetStaging.clearAssetHashCache();
  const t0 = process.hrtime.bigint();
  const app = new App({ outdir });
  let stack: Stack | undefined;
  for (let i = 0; i < functions; i++) {
    if (i % FUNCTIONS_PER_STACK === 0) {
      stack = new Stack(app, `Bench${i / FUNCTIONS_PER_STACK}`);
    }
    new lambda.Function(stack!, `Fn${i}`, {
      runtime: lambda.Runtime.PYTHON_3_12,
      handler: 'index.handler',
      code: lambda.Code.fromInline('def handler(event, context):\n    return 1\n'),
    });
  }
  if (variant !== 'without') {
    withMultiprocessingFix(app);
  }
  app.synth();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function main(): void {
  const { sizes, reps, outdir } = parseArgs(process.argv.slice(2));
  fs.rmSync(outdir, { recursive: true, force: true });
  const dir = (variant: Variant, size: number) => path.join(outdir, `${variant}-${size}`);
  const fresh = (variant: Variant, size: number) => {
    fs.rmSync(dir(variant, size), { recursive: true, force: true });
    return dir(variant, size);
  };

  // Warm-up, untimed; it also leaves the built layer in the 'warm' directories.
  for (const size of sizes) {
    synthOnce(size, 'without', dir('without', size));
    synthOnce(size, 'warm', dir('warm', size));
  }

  const results: Record<string, Record<Variant, number[]>> = {};
  for (const size of sizes) results[size] = { without: [], warm: [], cold: [] };
  for (let rep = 0; rep < reps; rep++) {
    const order = [...VARIANTS.slice(rep % 3), ...VARIANTS.slice(0, rep % 3)];
    for (const size of sizes) {
      for (const variant of order) {
        const out = variant === 'cold' ? fresh('cold', size) : dir(variant, size);
        results[size][variant].push(synthOnce(size, variant, out));
      }
    }
  }
  fs.rmSync(outdir, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(results) + '\n');
}

main();
