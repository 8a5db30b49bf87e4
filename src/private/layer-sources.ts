import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { TargetArchitecture } from './architecture';
import { LIBRARY_PATH_IN_LAYER } from './layer-layout';
import { LibraryBuild } from '../library-build';

/**
 * The C library's sources as shipped in this package: `layer/` next to
 * `lib/` (compiled) or `src/` (tests).
 */
export class LayerSources {
  /** The sources this package ships. */
  public static bundled(): LayerSources {
    return new LayerSources(path.join(__dirname, '..', '..', 'layer'));
  }

  public readonly directory: string;
  public readonly buildScript: string;
  public readonly auditScript: string;
  /** The library version from `layer/VERSION`. */
  public readonly version: string;

  public constructor(directory: string) {
    this.directory = path.resolve(directory);
    this.buildScript = path.join(this.directory, 'build.sh');
    this.auditScript = path.join(this.directory, 'audit.sh');
    for (const required of [this.buildScript, this.auditScript, path.join(this.directory, 'VERSION'), path.join(this.directory, 'src')]) {
      if (!fs.existsSync(required)) {
        throw new Error(`shm_redirect sources are incomplete: ${required} is missing (is the package installed completely?)`);
      }
    }
    this.version = fs.readFileSync(path.join(this.directory, 'VERSION'), 'utf8').trim();
    if (!/^\d+\.\d+\.\d+\S*$/.test(this.version)) {
      throw new Error(`${path.join(this.directory, 'VERSION')} must hold one version like 1.0.0, found "${this.version}"`);
    }
  }

  /**
   * The layer's asset hash: the library's {@link fingerprint} and how it is
   * obtained. Nothing that depends on where the package or the app lives.
   */
  public assetHash(target: TargetArchitecture, build: LibraryBuild): string {
    return crypto.createHash('sha256').update(`shm_redirect-layer\0${this.fingerprint(target)}\0build=${build}`).digest('hex');
  }

  /**
   * The asset hash of the Docker build context that holds the library at
   * `opt/lib/shm_redirect.so` for image functions: like {@link assetHash},
   * another layout.
   */
  public imageContextHash(target: TargetArchitecture, build: LibraryBuild): string {
    return crypto.createHash('sha256').update(`shm_redirect-image-context\0${this.fingerprint(target)}\0build=${build}`).digest('hex');
  }

  /**
   * Content hash of everything that decides the built library for `target`:
   * the C sources, the build script (which holds the flags), the export list
   * (its version script), the version and the architecture.
   */
  public fingerprint(target: TargetArchitecture): string {
    const hash = crypto.createHash('sha256');
    hash.update(`shm_redirect\0arch=${target.name}\0`);
    const files = [
      ...listFiles(path.join(this.directory, 'src')),
      this.buildScript,
      path.join(this.directory, 'exports.txt'),
      path.join(this.directory, 'VERSION'),
    ];
    for (const file of files) {
      hash.update(path.relative(this.directory, file).split(path.sep).join('/'));
      hash.update('\0');
      hash.update(fs.readFileSync(file));
      hash.update('\0');
    }
    return hash.digest('hex');
  }

  /**
   * The directory holding `lib/shm_redirect.so` prebuilt for `target` by the
   * package build from these very sources (its fingerprint file says so), or
   * why there is none.
   */
  public prebuilt(target: TargetArchitecture): { directory: string } | { missing: string } {
    const directory = path.join(this.directory, 'prebuilt', target.name);
    const fingerprintFile = `${directory}.sha256`;
    if (!fs.existsSync(path.join(directory, LIBRARY_PATH_IN_LAYER)) || !fs.existsSync(fingerprintFile)) {
      return { missing: `${directory} holds no prebuilt library (a git checkout has none until \`npx projen build:prebuilt\` or a full \`npx projen build\` builds them, not \`npx projen compile\`; the npm package always has them)` };
    }
    if (fs.readFileSync(fingerprintFile, 'utf8').trim() !== this.fingerprint(target)) {
      return { missing: `the prebuilt library in ${directory} was built from other sources than ${this.directory} holds now (\`npx projen build:prebuilt\` rebuilds it)` };
    }
    return { directory };
  }
}

function listFiles(directory: string): string[] {
  return fs
    .readdirSync(directory, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const full = path.join(directory, entry.name);
      return entry.isDirectory() ? listFiles(full) : [full];
    });
}
