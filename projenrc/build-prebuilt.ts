// The prebuilt libraries the package ships (layer/prebuilt/, never in git): for each architecture,
// layer/build.sh with the project's flags (--werror) and its default compiler (the host's cc, the Debian cross
// gcc for the other architecture), layer/audit.sh, then the library with the fingerprint of the sources it was
// built from, which synth checks before using it. test/prebuilt/reproducible.sh rebuilds them from the packed
// package and compares bytes.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { targetOf } from '../src/private/architecture';
import { LIBRARY_PATH_IN_LAYER } from '../src/private/layer-layout';
import { LayerSources } from '../src/private/layer-sources';

const sources = new LayerSources(path.join(__dirname, '..', 'layer'));
const root = path.join(sources.directory, 'prebuilt');
fs.rmSync(root, { recursive: true, force: true });
for (const architecture of [lambda.Architecture.X86_64, lambda.Architecture.ARM_64]) {
  const target = targetOf(architecture);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'shm-redirect-prebuilt-'));
  try {
    const library = path.join(work, 'shm_redirect.so');
    execFileSync('sh', [sources.buildScript, '--arch', target.name, '--werror', '--out', work], { stdio: 'inherit' });
    execFileSync('sh', [sources.auditScript, '--arch', target.name, library], { stdio: 'inherit' });
    const destination = path.join(root, target.name, LIBRARY_PATH_IN_LAYER);
    fs.mkdirSync(path.dirname(destination), { recursive: true });
    fs.copyFileSync(library, destination);
    fs.writeFileSync(path.join(root, `${target.name}.sha256`), `${sources.fingerprint(target)}\n`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
