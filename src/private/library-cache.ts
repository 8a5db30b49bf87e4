import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { TargetArchitecture } from './architecture';
import { LIBRARY_PATH_IN_LAYER } from './layer-layout';
import { elfMachine } from './toolchain';

/** The variable that moves the cache of built libraries, or turns it off (`off`). */
export const CACHE_VARIABLE = 'CDK_LAMBDA_MULTIPROCESSING_CACHE';

/**
 * Libraries built from source, kept by the sources' fingerprint and how they
 * were built, so that one build serves every asset of a synth (the layer and
 * an image's build context) and later synths into a fresh cdk.out, as CDK's
 * own asset cache does within one cdk.out. Entries appear by rename, so two
 * synths racing on one entry each see either nothing or a whole library.
 */
export class LibraryCache {
  /** The cache the environment asks for: `$CDK_LAMBDA_MULTIPROCESSING_CACHE`, else the OS cache directory. */
  public static fromEnvironment(): LibraryCache {
    const setting = process.env[CACHE_VARIABLE];
    if (setting === 'off') {
      return new LibraryCache(processScratch());
    }
    return new LibraryCache(setting !== undefined && setting !== '' ? path.resolve(setting) : path.join(osCacheDirectory(), 'cdk-lambda-multiprocessing', 'libraries'));
  }

  public constructor(public readonly root: string) {}

  /** The entry's key: what decides the library's bytes, and how it is built (Docker builds keep their image). */
  public key(fingerprint: string, how: string): string {
    return crypto.createHash('sha256').update(`${fingerprint}\0${how}`).digest('hex').slice(0, 32);
  }

  /** The cached `lib/shm_redirect.so` directory's parent for `key`, when it holds a library for `target`. */
  public lookup(key: string, target: TargetArchitecture): string | undefined {
    const directory = path.join(this.root, key);
    return elfMachine(path.join(directory, LIBRARY_PATH_IN_LAYER)) === target.elfMachine ? directory : undefined;
  }

  /**
   * Keeps `library` (a built shm_redirect.so) under `key`; anything that is
   * not an ELF library for `target` (a skipped bundling's placeholder) is not
   * kept. A cache that cannot be written costs only the reuse.
   */
  public store(key: string, target: TargetArchitecture, library: string): void {
    if (elfMachine(library) !== target.elfMachine || this.lookup(key, target) !== undefined) {
      return;
    }
    let scratch: string | undefined;
    try {
      fs.mkdirSync(this.root, { recursive: true });
      scratch = fs.mkdtempSync(path.join(this.root, '.new-'));
      fs.mkdirSync(path.join(scratch, path.dirname(LIBRARY_PATH_IN_LAYER)));
      fs.copyFileSync(library, path.join(scratch, LIBRARY_PATH_IN_LAYER));
      fs.renameSync(scratch, path.join(this.root, key));
      scratch = undefined;
    } catch {
      // Another synth stored it first, or the cache is read-only.
    } finally {
      if (scratch !== undefined) {
        fs.rmSync(scratch, { recursive: true, force: true });
      }
    }
  }
}

function osCacheDirectory(): string {
  if (process.env.XDG_CACHE_HOME) {
    return process.env.XDG_CACHE_HOME;
  }
  if (process.platform === 'darwin') {
    return path.join(os.homedir(), 'Library', 'Caches');
  }
  if (process.platform === 'win32' && process.env.LOCALAPPDATA) {
    return process.env.LOCALAPPDATA;
  }
  return path.join(os.homedir(), '.cache');
}

let scratchDirectory: string | undefined;

/** With the cache off, builds are still shared within one synth, in a directory removed when it ends. */
function processScratch(): string {
  if (scratchDirectory === undefined) {
    const created = fs.mkdtempSync(path.join(os.tmpdir(), 'shm-redirect-libraries-'));
    scratchDirectory = created;
    process.on('exit', () => fs.rmSync(created, { recursive: true, force: true }));
  }
  return scratchDirectory;
}
