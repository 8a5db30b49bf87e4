import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isNativeTarget, TargetArchitecture } from './architecture';

/**
 * The compiler commands worth trying for `target`, best first. Each is handed
 * to `build.sh --cc` as it is, so multi-word commands (zig, clang) work.
 * zig pins the glibc it links against to 2.26, the oldest Lambda has.
 */
export function compilerCandidates(target: TargetArchitecture): string[] {
  const native = isNativeTarget(target) ? ['cc', 'gcc'] : [];
  return [
    ...native,
    `${target.gnuTriplet}-gcc`,
    `zig cc -target ${target.gnuTriplet}.2.26`,
    `clang --target=${target.gnuTriplet}`,
  ];
}

const found = new Map<string, string | undefined>();
const foundReadelf = new Map<string, string | undefined>();

/**
 * A readelf for layer/audit.sh, which reads any architecture's ELF files:
 * $READELF, binutils' or LLVM's (macOS has neither by default).
 */
export function findReadelf(target: TargetArchitecture): string | undefined {
  const key = `${target.name}\0${process.env.PATH ?? ''}\0${process.env.READELF ?? ''}`;
  if (!foundReadelf.has(key)) {
    const candidates = [process.env.READELF, 'readelf', `${target.gnuTriplet}-readelf`, 'llvm-readelf'];
    foundReadelf.set(
      key,
      candidates.find((c): c is string => c !== undefined && c !== '' && spawnSync(c, ['--version'], { env: process.env, stdio: 'ignore' }).status === 0),
    );
  }
  return foundReadelf.get(key);
}

/**
 * The first candidate that really builds a shared library for `target`:
 * `--version` alone would accept a clang without a sysroot for the target or a
 * macOS cc, both of which cannot produce the library.
 */
export function findCompiler(target: TargetArchitecture): string | undefined {
  const key = `${target.name}\0${process.env.PATH ?? ''}`;
  if (!found.has(key)) {
    found.set(key, compilerCandidates(target).find((cc) => buildsFor(cc, target)));
  }
  return found.get(key);
}

const PROBE_SOURCE = `#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
int shm_redirect_probe(const char *p) { return open(p, O_RDONLY) + (dlsym(RTLD_NEXT, p) != 0); }
`;

function buildsFor(cc: string, target: TargetArchitecture): boolean {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shm-redirect-probe-'));
  try {
    fs.writeFileSync(path.join(dir, 'probe.c'), PROBE_SOURCE);
    const result = spawnSync('sh', ['-c', `${cc} -shared -fPIC -o probe.so probe.c`], {
      cwd: dir,
      env: process.env,
      stdio: 'ignore',
      timeout: 60_000,
    });
    return result.status === 0 && elfMachine(path.join(dir, 'probe.so')) === target.elfMachine;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** e_machine of a 64-bit little-endian ELF file, or undefined for anything else. */
export function elfMachine(file: string): number | undefined {
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
