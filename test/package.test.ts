import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');

function packedFiles(): string[] {
  const json = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return (JSON.parse(json)[0].files as { path: string }[]).map((f) => f.path).sort();
}

test('the npm package carries the layer sources (and no tests, build outputs or other parts of the repo), enough to build and audit the library', () => {
  const files = packedFiles();
  const layer = files.filter((f) => f.startsWith('layer/'));

  expect(layer).toEqual(expect.arrayContaining(['layer/build.sh', 'layer/audit.sh', 'layer/VERSION', 'layer/Makefile']));
  expect(layer.some((f) => /^layer\/src\/.*\.c$/.test(f))).toBe(true);
  expect(layer.filter((f) => !/^layer\/(src\/|build\.sh$|audit\.sh$|exports\.txt$|VERSION$|Makefile$)/.test(f))).toEqual([]);
  expect(files.filter((f) => /^(test|bench|examples|docs|\.ci|src|cdk\.out|projenrc)\//.test(f))).toEqual([]);
  expect(files).toEqual(expect.arrayContaining(['API.md', 'README.md', 'package.json']));

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'clm-pack-'));
  try {
    for (const file of layer) {
      fs.mkdirSync(path.join(work, path.dirname(file)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, file), path.join(work, file));
    }
    const arch = process.arch === 'arm64' ? 'arm64' : 'x86_64';
    const out = path.join(work, 'out');
    execFileSync('sh', [path.join(work, 'layer', 'build.sh'), '--arch', arch, '--out', out], { stdio: 'pipe' });
    execFileSync('sh', [path.join(work, 'layer', 'audit.sh'), '--arch', arch, path.join(out, 'shm_redirect.so')], { stdio: 'pipe' });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
