import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { pathWith, SHELL_TOOLS } from './util';
import { targetOf } from '../../src/private/architecture';
import { LayerSources } from '../../src/private/layer-sources';
import { buildWithLocalCompiler, CompilerAttempt, elfMachine } from '../../src/private/toolchain';
import { localBuildProblem } from '../../src/private/toolchain-messages';

// Each message is produced from fake compilers on an otherwise bare PATH: scripts that answer build.sh's
// question for their predefined macros and then fail the way the real tool fails without its C library.
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

/** `machine`: the macro naming the architecture it builds for (`__aarch64__`, `__x86_64__`). */
function fakeCompiler(name: string, machine: string, failure: string): void {
  fs.writeFileSync(path.join(work, `${name}.stderr`), `${failure}\n`);
  fs.writeFileSync(
    path.join(bin, name),
    [
      '#!/bin/sh',
      `case "$*" in *-dM*) printf '#define ${machine} 1\\n#define __linux__ 1\\n'; exit 0 ;; esac`,
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
  fakeCompiler('aarch64-linux-gnu-gcc', '__aarch64__', '/usr/bin/aarch64-linux-gnu-ld: cannot find crti.o: No such file or directory');
  const tried = attempts();
  expect(tried[0]).toEqual({ compiler: 'aarch64-linux-gnu-gcc', outcome: 'cannot-link', detail: expect.stringContaining('cannot find crti.o') });
  expect(localBuildProblem(arm, tried)).toMatch(
    /^the C compiler `aarch64-linux-gnu-gcc` cannot link for aarch64-linux-gnu: the C library for that target \(headers, crt files, libc\/libdl\) is missing \(tried `aarch64-linux-gnu-gcc` \(cannot link: .*cannot find crti\.o.*\)\. Install it: Debian\/Ubuntu `apt-get install libc6-dev-arm64-cross`, Amazon Linux has no aarch64-linux-gnu C library package: `pip install ziglang`.*macOS \(Homebrew\) `brew install zig`/,
  );
});

test('missing headers and missing libdl/libc stubs are "cannot link" too', () => {
  fakeCompiler('aarch64-linux-gnu-gcc', '__aarch64__', 'src/shm.c:3:10: fatal error: stdio.h: No such file or directory');
  fakeCompiler('zig', '__aarch64__', 'ld.lld: error: unable to find library -ldl');
  fakeCompiler('clang', '__aarch64__', "src/shm.c:1:10: fatal error: 'fcntl.h' file not found");
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
  fakeCompiler('aarch64-linux-gnu-gcc', '__x86_64__', 'unreachable');
  const tried = attempts();
  expect(tried[0]).toEqual({ compiler: 'aarch64-linux-gnu-gcc', outcome: 'wrong-target', detail: expect.stringContaining("targets 'x86_64-linux', not arm64") });
  expect(localBuildProblem(arm, tried)).toMatch(/^no C compiler here builds the library for aarch64-linux-gnu \(tried `aarch64-linux-gnu-gcc` \(builds for another machine: .*\)\. Install one: Debian\/Ubuntu/);
});

test('the probe is the build: a compiler that fails is rejected and the next candidate builds the library', () => {
  fakeCompiler('aarch64-linux-gnu-gcc', '__aarch64__', '/usr/bin/aarch64-linux-gnu-ld: cannot find -lc');
  hostTool('clang', 'clang');
  const result = buildWithLocalCompiler(sources, arm, 'readelf', path.join(work, 'out'));
  expect(result).toEqual({ built: true, compiler: 'clang --target=aarch64-linux-gnu' });
  expect(fs.existsSync(path.join(work, 'out', 'shm_redirect.so'))).toBe(true);
});

/**
 * `zig` as zig 0.17 answers `zig cc -target <triple>.2.26 ...`: it rejects -dumpmachine and -dumpversion
 * ("version '.2.26' in target triple ... is invalid") yet compiles and links with that target; the host's clang
 * compiles in its place.
 */
function zigRejectingDumpmachine(): void {
  fs.writeFileSync(
    path.join(bin, 'zig'),
    [
      '#!/bin/sh',
      '[ "$1 $2" = "cc -target" ] || exit 2',
      'triple=$3; shift 3',
      'for a; do case $a in -dumpmachine|-dumpversion)',
      '  echo "zig: error: version \'.2.26\' in target triple \'$triple\' is invalid" >&2; exit 1 ;; esac; done',
      'PATH=/usr/bin:/bin exec clang --target=${triple%.2.26} "$@"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
}

test('a zig that rejects -dumpmachine with a glibc-versioned target (zig 0.17) still builds the library', () => {
  zigRejectingDumpmachine();
  const result = buildWithLocalCompiler(sources, arm, 'readelf', path.join(work, 'out'));
  expect(result).toEqual({ built: true, compiler: 'zig cc -target aarch64-linux-gnu.2.26' });
  expect(elfMachine(path.join(work, 'out', 'shm_redirect.so'))).toBe(arm.elfMachine);
});

test('headers for a glibc without statx (< 2.28, as zig 0.17 has for 2.26) still build the library', () => {
  // glibc's <sys/stat.h> declares statx and its struct only through <bits/statx.h>; an empty one stands in for
  // headers that follow glibc 2.26 strictly.
  const headers = path.join(work, 'glibc-2.26-headers');
  fs.mkdirSync(path.join(headers, 'bits'), { recursive: true });
  fs.writeFileSync(path.join(headers, 'bits', 'statx.h'), '');
  hostTool('aarch64-linux-gnu-gcc', `clang --target=aarch64-linux-gnu -I ${headers}`);
  const result = buildWithLocalCompiler(sources, arm, 'readelf', path.join(work, 'out'));
  expect(result).toEqual({ built: true, compiler: 'aarch64-linux-gnu-gcc' });
});

test('a git checkout without prebuilt libraries: the message names the task that builds them, not `compile`', () => {
  const layer = path.join(work, 'layer');
  for (const entry of ['src', 'build.sh', 'audit.sh', 'exports.txt', 'VERSION']) {
    fs.cpSync(path.join(sources.directory, entry), path.join(layer, entry), { recursive: true });
  }
  const missing = new LayerSources(layer).prebuilt(arm);
  expect(missing).toEqual({ missing: expect.stringContaining('until `npx projen build:prebuilt` or a full `npx projen build` builds them, not `npx projen compile`') });
});

// On an arm64 host x86_64 is the cross target; the arm64 cases cover that shape.
(process.platform === 'linux' && process.arch === 'x64' ? test : test.skip)('native target on Linux: the packages of the host C library', () => {
  const tried = attempts(x86);
  expect(tried.map((a) => a.compiler.split(' ')[0])).toEqual(['cc', 'gcc', 'x86_64-linux-gnu-gcc', 'zig', 'python3', 'clang']);
  expect(localBuildProblem(x86, tried)).toMatch(/Install one: Debian\/Ubuntu `apt-get install gcc libc6-dev binutils`, Amazon Linux `dnf install gcc glibc-devel binutils`/);
});
