import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { pathWith, SHELL_TOOLS } from './util';
import { targetOf } from '../src/private/architecture';
import { LayerSources } from '../src/private/layer-sources';
import { buildWithLocalCompiler, CompilerAttempt } from '../src/private/toolchain';
import { localBuildProblem } from '../src/private/toolchain-messages';

// Each message is produced from fake compilers on an otherwise bare PATH: scripts that answer build.sh's
// -dumpmachine and then fail the way the real tool fails without its C library.
const arm = targetOf(lambda.Architecture.ARM_64);
const x86 = targetOf(lambda.Architecture.X86_64);
const sources = LayerSources.bundled();
const savedPath = process.env.PATH;
let work: string;
let bin: string;
beforeEach(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'clm-toolchain-'));
  bin = pathWith(work, [...SHELL_TOOLS, 'readelf']);
  process.env.PATH = bin;
});
afterEach(() => {
  process.env.PATH = savedPath;
  fs.rmSync(work, { recursive: true, force: true });
});

function fakeCompiler(name: string, machine: string, failure: string): void {
  fs.writeFileSync(path.join(work, `${name}.stderr`), `${failure}\n`);
  fs.writeFileSync(
    path.join(bin, name),
    [
      '#!/bin/sh',
      `case "$1" in -dumpmachine) echo ${machine}; exit 0 ;; -dumpversion) echo 12; exit 0 ;; esac`,
      `cat '${path.join(work, `${name}.stderr`)}' >&2`,
      'exit 1',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
}

/** A wrapper that runs the host's `tool`, found outside the test PATH. */
function hostTool(name: string, tool: string): void {
  fs.writeFileSync(path.join(bin, name), `#!/bin/sh\nPATH=/usr/bin:/bin exec ${tool} "$@"\n`, { mode: 0o755 });
}

function attempts(target = arm): CompilerAttempt[] {
  const result = buildWithLocalCompiler(sources, target, 'readelf', path.join(work, 'out'));
  if (result.built) {
    throw new Error(`unexpectedly built with ${result.compiler}`);
  }
  return result.attempts;
}

test('no compiler at all: says none is installed, lists what it tried, names the packages for Debian/Ubuntu, Amazon Linux and macOS', () => {
  const tried = attempts();
  expect(tried.map((a) => a.outcome)).toEqual(['missing', 'missing', 'missing', 'missing']);
  expect(localBuildProblem(arm, tried)).toBe(
    'no C compiler for aarch64-linux-gnu is installed (tried `aarch64-linux-gnu-gcc` (not installed), `zig cc -target aarch64-linux-gnu.2.26` (not installed), ' +
      '`python3 -m ziglang cc -target aarch64-linux-gnu.2.26` (not installed), `clang --target=aarch64-linux-gnu` (not installed)). ' +
      'Install one: Debian/Ubuntu `apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils`, ' +
      'Amazon Linux (no cross gcc packages) `pip install ziglang` (any OS; used as `python3 -m ziglang cc`) and `dnf install binutils`, ' +
      'macOS (Homebrew) `brew install zig binutils` and `export READELF=$(brew --prefix binutils)/bin/readelf`.',
  );
});

test('a cross gcc without its C library (libc6-dev-arm64-cross): "cannot link", naming the package', () => {
  fakeCompiler('aarch64-linux-gnu-gcc', 'aarch64-linux-gnu', '/usr/bin/aarch64-linux-gnu-ld: cannot find crti.o: No such file or directory');
  const tried = attempts();
  expect(tried[0]).toEqual({ compiler: 'aarch64-linux-gnu-gcc', outcome: 'cannot-link', detail: expect.stringContaining('cannot find crti.o') });
  expect(localBuildProblem(arm, tried)).toMatch(
    /^the C compiler `aarch64-linux-gnu-gcc` cannot link for aarch64-linux-gnu: the C library for that target \(headers, crt files, libc\/libdl\) is missing \(tried `aarch64-linux-gnu-gcc` \(cannot link: .*cannot find crti\.o.*\)\. Install it: Debian\/Ubuntu `apt-get install libc6-dev-arm64-cross`, Amazon Linux has no aarch64-linux-gnu C library package: `pip install ziglang`.*macOS \(Homebrew\) `brew install zig`/,
  );
});

test('missing headers and missing libdl/libc stubs are "cannot link" too', () => {
  fakeCompiler('aarch64-linux-gnu-gcc', 'aarch64-linux-gnu', 'src/shm.c:3:10: fatal error: stdio.h: No such file or directory');
  fakeCompiler('zig', 'aarch64-unknown-linux-gnu', 'ld.lld: error: unable to find library -ldl');
  fakeCompiler('clang', 'aarch64-unknown-linux-gnu', "src/shm.c:1:10: fatal error: 'fcntl.h' file not found");
  const tried = attempts();
  expect(tried.map((a) => [a.compiler.split(' ')[0], a.outcome])).toEqual([
    ['aarch64-linux-gnu-gcc', 'cannot-link'],
    ['zig', 'cannot-link'],
    ['python3', 'missing'],
    ['clang', 'cannot-link'],
  ]);
  expect(localBuildProblem(arm, tried)).toMatch(/^the C compiler `aarch64-linux-gnu-gcc` and `zig cc .*` and `clang --target=aarch64-linux-gnu` cannot link for aarch64-linux-gnu/);
});

test('a compiler for another machine is passed over, and says so', () => {
  fakeCompiler('aarch64-linux-gnu-gcc', 'x86_64-linux-gnu', 'unreachable');
  const tried = attempts();
  expect(tried[0]).toEqual({ compiler: 'aarch64-linux-gnu-gcc', outcome: 'wrong-target', detail: expect.stringContaining("targets 'x86_64-linux-gnu', not arm64") });
  expect(localBuildProblem(arm, tried)).toMatch(/^no C compiler here builds the library for aarch64-linux-gnu \(tried `aarch64-linux-gnu-gcc` \(builds for another machine: .*\)\. Install one: Debian\/Ubuntu/);
});

test('the probe is the build: a compiler that fails is rejected and the next candidate builds the library', () => {
  fakeCompiler('aarch64-linux-gnu-gcc', 'aarch64-linux-gnu', '/usr/bin/aarch64-linux-gnu-ld: cannot find -lc');
  hostTool('clang', 'clang');
  const result = buildWithLocalCompiler(sources, arm, 'readelf', path.join(work, 'out'));
  expect(result).toEqual({ built: true, compiler: 'clang --target=aarch64-linux-gnu' });
  expect(fs.existsSync(path.join(work, 'out', 'shm_redirect.so'))).toBe(true);
});

// On an arm64 host x86_64 is the cross target; the arm64 cases cover that shape.
(process.platform === 'linux' && process.arch === 'x64' ? test : test.skip)('native target on Linux: the packages of the host C library', () => {
  const tried = attempts(x86);
  expect(tried.map((a) => a.compiler.split(' ')[0])).toEqual(['cc', 'gcc', 'x86_64-linux-gnu-gcc', 'zig', 'python3', 'clang']);
  expect(localBuildProblem(x86, tried)).toMatch(/Install one: Debian\/Ubuntu `apt-get install gcc libc6-dev binutils`, Amazon Linux `dnf install gcc glibc-devel binutils`/);
});
