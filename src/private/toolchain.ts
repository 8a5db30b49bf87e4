import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isNativeTarget, TargetArchitecture } from './architecture';
import { LayerSources } from './layer-sources';

/**
 * The compiler commands worth trying for `target`, best first. zig pins the
 * glibc it links against to 2.26, the oldest Lambda has; `python3 -m ziglang`
 * is the zig that `pip install ziglang` gives without putting `zig` on PATH.
 */
export function compilerCandidates(target: TargetArchitecture): string[] {
  const native = isNativeTarget(target) ? ['cc', 'gcc'] : [];
  const zigTarget = `-target ${target.gnuTriplet}.2.26`;
  return [
    ...native,
    `${target.gnuTriplet}-gcc`,
    `zig cc ${zigTarget}`,
    `python3 -m ziglang cc ${zigTarget}`,
    `clang --target=${target.gnuTriplet}`,
  ];
}

/** What trying one compiler candidate came to. */
export interface CompilerAttempt {
  readonly compiler: string;
  /**
   * `missing`: not installed; `cannot-link`: installed, but the C library
   * (headers, crt files, libc/libdl stubs) for the target is not;
   * `wrong-target`: builds for another machine; `failed`: any other failure.
   */
  readonly outcome: 'missing' | 'cannot-link' | 'wrong-target' | 'failed';
  /** The compiler's first error line, when it ran. */
  readonly detail?: string;
}

export type LocalBuildResult = { readonly built: true; readonly compiler: string } | { readonly built: false; readonly attempts: CompilerAttempt[] };

/**
 * Builds the library for `target` into `outDir/shm_redirect.so` with the
 * first candidate compiler that really builds it, so a compiler that cannot
 * (no C library for the target, a macOS cc, a clang without sysroot) is
 * passed over for the next one. No `--werror`: a newer compiler's new warning
 * must not fail a user's synth. A library that fails layer/audit.sh does not
 * count as built.
 */
export function buildWithLocalCompiler(sources: LayerSources, target: TargetArchitecture, readelf: string, outDir: string): LocalBuildResult {
  const attempts: CompilerAttempt[] = [];
  for (const compiler of compilerCandidates(target)) {
    if (!isInstalled(compiler)) {
      attempts.push({ compiler, outcome: 'missing' });
      continue;
    }
    const attempt = tryBuild(sources, target, compiler, readelf, outDir);
    if (attempt === undefined) {
      return { built: true, compiler };
    }
    attempts.push(attempt);
  }
  return { built: false, attempts };
}

function tryBuild(sources: LayerSources, target: TargetArchitecture, compiler: string, readelf: string, outDir: string): CompilerAttempt | undefined {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'shm-redirect-build-'));
  try {
    const cc = path.join(work, 'cc');
    // build.sh takes the compiler as one word.
    fs.writeFileSync(cc, `#!/bin/sh\nexec ${compiler} "$@"\n`, { mode: 0o755 });
    const built = path.join(work, 'out');
    const result = spawnSync('sh', [sources.buildScript, '--arch', target.name, '--cc', cc, '--out', built], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: process.env,
      timeout: 300_000,
    });
    const library = path.join(built, 'shm_redirect.so');
    if (result.status !== 0) {
      const output = `${result.stderr ?? ''}\n${result.stdout ?? ''}`;
      return { compiler, outcome: classifyFailure(output), detail: firstError(output) ?? result.error?.message };
    }
    if (elfMachine(library) !== target.elfMachine) {
      return { compiler, outcome: 'wrong-target', detail: 'its output is not an ELF library for the target' };
    }
    const audit = spawnSync('sh', [sources.auditScript, '--arch', target.name, library], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, READELF: readelf },
    });
    if (audit.status !== 0) {
      return { compiler, outcome: 'failed', detail: `the library fails layer/audit.sh: ${firstError(`${audit.stderr ?? ''}\n${audit.stdout ?? ''}`)}` };
    }
    fs.mkdirSync(outDir, { recursive: true });
    fs.copyFileSync(library, path.join(outDir, 'shm_redirect.so'));
    return undefined;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Messages of gcc, clang, zig/lld and build.sh that say the target's C library is not installed. */
const MISSING_C_LIBRARY = [
  /fatal error: [^:\s]+\.h: No such file or directory/,
  /'[^']+\.h' file not found/,
  /cannot find (-l\S+|\S*crt\S*\.o|\S+\.so\S*)/,
  /unable to find library/,
  /unable to find (Dynamic|Static) system library/,
];
const WRONG_TARGET = /compiler '.*' targets '.*', not/;

function classifyFailure(output: string): CompilerAttempt['outcome'] {
  if (WRONG_TARGET.test(output)) {
    return 'wrong-target';
  }
  return MISSING_C_LIBRARY.some((re) => re.test(output)) ? 'cannot-link' : 'failed';
}

function firstError(output: string): string | undefined {
  const lines = output.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  return lines.find((l) => /error|cannot find|not found|unable to/i.test(l)) ?? lines[0];
}

/** Whether the command that starts `compiler` exists (for `python3 -m ziglang`: the module too). */
function isInstalled(compiler: string): boolean {
  const words = compiler.split(/\s+/);
  if (!onPath(words[0])) {
    return false;
  }
  if (words[1] === '-m') {
    return spawnSync(words[0], ['-c', `import ${words[2]}`], { env: process.env, stdio: 'ignore', timeout: 30_000 }).status === 0;
  }
  return true;
}

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    if (dir === '') {
      return false;
    }
    try {
      fs.accessSync(path.join(dir, command), fs.constants.X_OK);
      return fs.statSync(path.join(dir, command)).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * A readelf for layer/audit.sh, which reads any architecture's ELF files:
 * $READELF, binutils' or LLVM's (macOS has neither by default).
 */
export function findReadelf(target: TargetArchitecture): string | undefined {
  const candidates = [process.env.READELF, 'readelf', `${target.gnuTriplet}-readelf`, 'llvm-readelf'];
  return candidates.find(
    (c): c is string => c !== undefined && c !== '' && spawnSync(c, ['--version'], { env: process.env, stdio: 'ignore' }).status === 0,
  );
}

/** e_machine of a 64-bit little-endian ELF file, or undefined for anything else. */
export function elfMachine(file: string): number | undefined {
  if (!fs.existsSync(file)) {
    return undefined;
  }
  const header = Buffer.alloc(20);
  const fd = fs.openSync(file, 'r');
  try {
    if (fs.readSync(fd, header, 0, header.length, 0) < header.length) {
      return undefined;
    }
  } finally {
    fs.closeSync(fd);
  }
  const isElf64Le = header.readUInt32BE(0) === 0x7f454c46 && header[4] === 2 && header[5] === 1;
  return isElf64Le ? header.readUInt16LE(18) : undefined;
}
