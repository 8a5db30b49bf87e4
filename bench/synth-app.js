// One `cdk synth` of an app of N Python functions (alternately x86_64 and arm64, stacks of up to 100) and one
// arm64 image function, with or without the fix, as a new process does it: run by bench/synth-cost.ts, one
// process per synth. usage: node synth-app.js N with|without OUTDIR [LIBRARY_DIR]
// LIBRARY_DIR is the compiled construct to measure (default: this checkout's lib/).
const fs = require('fs');
const path = require('path');
const { App, Stack } = require('aws-cdk-lib');
const lambda = require('aws-cdk-lib/aws-lambda');

const [count, variant, outdir, libraryDir] = process.argv.slice(2);
const n = Number(count);
if (!Number.isInteger(n) || n < 1 || !['with', 'without'].includes(variant) || !outdir) {
  process.stderr.write('usage: node synth-app.js N with|without OUTDIR [LIBRARY_DIR]\n');
  process.exit(2);
}
const fix = variant === 'with' ? require(path.resolve(libraryDir || path.join(__dirname, '..', 'lib'))) : undefined;

const image = path.join(outdir, '..', 'image');
fs.mkdirSync(image, { recursive: true });
fs.writeFileSync(path.join(image, 'Dockerfile'), 'FROM public.ecr.aws/lambda/python:3.12\nCOPY --from=shm-redirect /opt /opt\nCMD ["app.handler"]\n');

const app = new App({ outdir });
let stack;
for (let i = 0; i < n; i++) {
  if (i % 100 === 0) {
    stack = new Stack(app, `Bench${i / 100}`);
  }
  new lambda.Function(stack, `Fn${i}`, {
    runtime: lambda.Runtime.PYTHON_3_12,
    architecture: i % 2 === 0 ? lambda.Architecture.X86_64 : lambda.Architecture.ARM_64,
    handler: 'index.handler',
    code: lambda.Code.fromInline('def handler(event, context):\n    return 1\n'),
  });
}
new lambda.DockerImageFunction(stack, 'Image', {
  architecture: lambda.Architecture.ARM_64,
  code: fix ? fix.MultiprocessingImageCode.fromImageAsset(image) : lambda.DockerImageCode.fromImageAsset(image),
});
if (fix) {
  fix.MultiprocessingFix.applyTo(app);
}
app.synth();
