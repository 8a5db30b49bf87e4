// The synth cost of the construct as users meet it: each synth a new Node process (as `cdk synth` starts one),
// for apps of 1, 20 and 500 Python functions (both architectures) and one arm64 image function, with and
// without the fix, in one run, as ratios to the same app without it (issue 27.8):
//   cold    an empty cdk.out and an empty library cache (a first synth on a new machine)
//   cached  an empty cdk.out, the library cache of an earlier synth (a new checkout, a CI job)
//   warm    the cdk.out and the cache of the previous synth (a repeated `cdk synth`)
// usage: ts-node bench/synth-cost.ts [--sizes 1,20,500] [--reps N] [--library DIR] [--smoke] [--out FILE]
// --library measures another compiled construct (e.g. main's lib/); --smoke: size 1, one repetition (checks the harness; its figures mean little).
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

type Variant = 'without' | 'cold' | 'cached' | 'warm';
const VARIANTS: Variant[] = ['without', 'cold', 'cached', 'warm'];

function options(argv: string[]) {
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const smoke = argv.includes('--smoke');
  const sizes = (value('--sizes') ?? (smoke ? '1' : '1,20,500')).split(',').map(Number);
  const reps = Number(value('--reps') ?? (smoke ? 1 : 3));
  if (sizes.some((s) => !Number.isInteger(s) || s < 1) || !Number.isInteger(reps) || reps < 1) {
    process.stderr.write('usage: synth-cost.ts [--sizes 1,20,500] [--reps N] [--library DIR] [--smoke] [--out FILE]\n');
    process.exit(2);
  }
  return { sizes, reps, library: value('--library'), out: value('--out') };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function main(): void {
  const { sizes, reps, library, out } = options(process.argv.slice(2));
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'clm-synth-cost-'));
  const app = path.join(__dirname, 'synth-app.js');
  const synth = (size: number, variant: Variant, outdir: string, cache: string): number => {
    const started = process.hrtime.bigint();
    const run = spawnSync(process.execPath, [app, String(size), variant === 'without' ? 'without' : 'with', outdir, ...(library ? [library] : [])], {
      env: { ...process.env, CDK_LAMBDA_MULTIPROCESSING_CACHE: cache },
      encoding: 'utf8',
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (run.status !== 0) {
      throw new Error(`synth of ${size} functions (${variant}) failed:\n${run.stderr}`);
    }
    return seconds;
  };
  const results: Record<number, Record<Variant, number[]>> = {};
  try {
    for (const size of sizes) {
      results[size] = { without: [], cold: [], cached: [], warm: [] };
      const warmOut = path.join(work, `warm-${size}`, 'cdk.out');
      const warmCache = path.join(work, `warm-${size}`, 'cache');
      synth(size, 'warm', warmOut, warmCache); // untimed: leaves the warm cdk.out and cache
      for (let rep = 0; rep < reps; rep++) {
        // Rotated order, so that no variant always runs right after another.
        for (const variant of [...VARIANTS.slice(rep % 4), ...VARIANTS.slice(0, rep % 4)]) {
          const fresh = path.join(work, `${variant}-${size}-${rep}`);
          const outdir = variant === 'warm' ? warmOut : path.join(fresh, 'cdk.out');
          const cache = variant === 'cold' ? path.join(fresh, 'cache') : warmCache;
          results[size][variant].push(synth(size, variant, outdir, cache));
          if (variant !== 'warm') {
            fs.rmSync(fresh, { recursive: true, force: true });
          }
        }
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  const lines = [
    `| Python functions (+1 image function) | without the fix, s | cold, s | cold / without | cached, s | cached / without | warm, s | warm / without |`,
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const size of sizes) {
    const r = results[size];
    const base = median(r.without);
    const cell = (v: Variant) => `${median(r[v]).toFixed(2)} | ${(median(r[v]) / base).toFixed(2)}`;
    lines.push(`| ${size} | ${base.toFixed(2)} | ${cell('cold')} | ${cell('cached')} | ${cell('warm')} |`);
  }
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  const text = `${lines.join('\n')}\n\nMedians of ${reps} repetition(s), each synth a new Node process; ${os.cpus().length} CPUs, load average ${load} at the end; construct: ${library ?? 'this checkout (lib/)'}.\n`;
  if (out) {
    fs.writeFileSync(out, text);
  }
  process.stdout.write(text);
}

main();
