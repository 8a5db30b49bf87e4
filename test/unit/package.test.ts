import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..', '..');

function packedFiles(): string[] {
  const json = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return (JSON.parse(json)[0].files as { path: string }[]).map((f) => f.path).sort();
}

test('the npm package carries the layer sources and the prebuilt libraries (and no tests, build outputs or other parts of the repo); the sources rebuild the prebuilt libraries byte for byte', () => {
  const files = packedFiles();
  const layer = files.filter((f) => f.startsWith('layer/'));

  expect(layer).toEqual(expect.arrayContaining(['layer/build.sh', 'layer/audit.sh', 'layer/VERSION', 'layer/Makefile']));
  expect(layer.some((f) => /^layer\/src\/.*\.c$/.test(f))).toBe(true);
  expect(layer.filter((f) => f.startsWith('layer/prebuilt/')).sort()).toEqual([
    'layer/prebuilt/arm64.sha256',
    'layer/prebuilt/arm64/lib/shm_redirect.so',
    'layer/prebuilt/x86_64.sha256',
    'layer/prebuilt/x86_64/lib/shm_redirect.so',
  ]);
  expect(layer.filter((f) => !/^layer\/(src\/|prebuilt\/|build\.sh$|audit\.sh$|exports\.txt$|VERSION$|Makefile$)/.test(f))).toEqual([]);
  expect(files.filter((f) => /^(test|bench|examples|docs|\.ci|\.github|release|src|cdk\.out|projenrc)\//.test(f))).toEqual([]);
  expect(files).toEqual(expect.arrayContaining(['API.md', 'README.md', 'package.json']));

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'clm-pack-'));
  try {
    for (const file of layer) {
      fs.mkdirSync(path.join(work, path.dirname(file)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, file), path.join(work, file));
    }
    // The package build's way (projenrc/build-prebuilt.ts): build.sh's default compilers, --werror.
    for (const arch of ['x86_64', 'arm64']) {
      const out = path.join(work, 'out', arch);
      execFileSync('sh', [path.join(work, 'layer', 'build.sh'), '--arch', arch, '--werror', '--out', out], { stdio: 'pipe' });
      const prebuilt = path.join(work, 'layer', 'prebuilt', arch, 'lib', 'shm_redirect.so');
      execFileSync('sh', [path.join(work, 'layer', 'audit.sh'), '--arch', arch, prebuilt], { stdio: 'pipe' });
      expect(fs.readFileSync(path.join(out, 'shm_redirect.so')).equals(fs.readFileSync(prebuilt))).toBe(true);
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
