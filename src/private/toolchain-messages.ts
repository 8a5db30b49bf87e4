import { isNativeTarget, TargetArchitecture } from './architecture';
import { CompilerAttempt } from './toolchain';

/**
 * Why no local compiler built the library for `target`, and what to install:
 * "no compiler for this architecture" and "a compiler that cannot link for
 * it" send users to different packages.
 */
export function localBuildProblem(target: TargetArchitecture, attempts: CompilerAttempt[]): string {
  const installed = attempts.filter((a) => a.outcome !== 'missing');
  const tried = `tried ${attempts.map((a) => `\`${a.compiler}\` (${describe(a)})`).join(', ')}`;
  const cannotLink = installed.filter((a) => a.outcome === 'cannot-link');
  if (cannotLink.length > 0) {
    return [
      `the C compiler ${cannotLink.map((a) => `\`${a.compiler}\``).join(' and ')} cannot link for ${target.gnuTriplet}: the C library for that target (headers, crt files, libc/libdl) is missing (${tried}).`,
      `Install it: ${libraryHint(target)}.`,
    ].join(' ');
  }
  if (installed.length > 0) {
    return `no C compiler here builds the library for ${target.gnuTriplet} (${tried}). Install one: ${compilerHint(target)}.`;
  }
  return `no C compiler for ${target.gnuTriplet} is installed (${tried}). Install one: ${compilerHint(target)}.`;
}

export function noReadelfProblem(): string {
  return [
    'no readelf for the ABI audit of the built library (tried $READELF, readelf, llvm-readelf).',
    'Install one: Debian/Ubuntu `apt-get install binutils`, Amazon Linux `dnf install binutils`,',
    'macOS `brew install binutils` and `export READELF=$(brew --prefix binutils)/bin/readelf`.',
  ].join(' ');
}

function describe(attempt: CompilerAttempt): string {
  switch (attempt.outcome) {
    case 'missing':
      return 'not installed';
    case 'cannot-link':
      return `cannot link: ${attempt.detail}`;
    case 'wrong-target':
      return `builds for another machine: ${attempt.detail}`;
    case 'failed':
      return `failed: ${attempt.detail}`;
  }
}

const ZIG = '`pip install ziglang` (any OS; used as `python3 -m ziglang cc`)';

function compilerHint(target: TargetArchitecture): string {
  if (isNativeTarget(target)) {
    return [
      'Debian/Ubuntu `apt-get install gcc libc6-dev binutils`',
      'Amazon Linux `dnf install gcc glibc-devel binutils` (`yum` on Amazon Linux 2)',
      ZIG,
    ].join(', ');
  }
  return [
    `Debian/Ubuntu \`apt-get install ${debianCross(target).gcc} ${debianCross(target).libc} binutils\``,
    `Amazon Linux (no cross gcc packages) ${ZIG} and \`dnf install binutils\``,
    'macOS (Homebrew) `brew install zig binutils` and `export READELF=$(brew --prefix binutils)/bin/readelf`',
  ].join(', ');
}

function libraryHint(target: TargetArchitecture): string {
  if (isNativeTarget(target)) {
    return 'Debian/Ubuntu `apt-get install libc6-dev`, Amazon Linux `dnf install glibc-devel`';
  }
  return [
    `Debian/Ubuntu \`apt-get install ${debianCross(target).libc}\``,
    `Amazon Linux has no ${target.gnuTriplet} C library package: ${ZIG} brings its own`,
    'macOS (Homebrew) `brew install zig`, which brings its own',
  ].join(', ');
}

function debianCross(target: TargetArchitecture): { gcc: string; libc: string } {
  return target.name === 'arm64'
    ? { gcc: 'gcc-aarch64-linux-gnu', libc: 'libc6-dev-arm64-cross' }
    : { gcc: 'gcc-x86-64-linux-gnu', libc: 'libc6-dev-amd64-cross' };
}
