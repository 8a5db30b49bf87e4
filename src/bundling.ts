import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { AssetHashType, BundlingOutput, DockerImage, ILocalBundling } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { TargetArchitecture } from './architecture';
import { LayerSources } from './layer-sources';
import { compilerCandidates, elfMachine, findCompiler, findReadelf } from './toolchain';

/** Where the library lands inside the layer zip (→ /opt/lib on Lambda). */
export const LIBRARY_PATH_IN_LAYER = 'lib/shm_redirect.so';

export interface LayerBundlingOptions {
  readonly forceDockerBundling?: boolean;
  readonly dockerImage?: DockerImage;
}

/**
 * The layer's code for one architecture: built on the host when a compiler
 * for the architecture is there, in Docker otherwise, and cached under a hash
 * of the sources.
 */
export function layerCode(sources: LayerSources, target: TargetArchitecture, options: LayerBundlingOptions): lambda.Code {
  const outDir = `/asset-output/${path.posix.dirname(LIBRARY_PATH_IN_LAYER)}`;
  const script = [
    `sh /asset-input/build.sh --arch ${target.name} --out ${outDir}`,
    `sh /asset-input/audit.sh --arch ${target.name} /asset-output/${LIBRARY_PATH_IN_LAYER}`,
  ].join(' && ');
  return lambda.Code.fromAsset(sources.directory, {
    assetHash: sources.assetHash(target),
    assetHashType: AssetHashType.CUSTOM,
    bundling: {
      image: options.dockerImage ?? lambda.Runtime.PROVIDED_AL2023.bundlingImage,
      platform: target.dockerPlatform,
      command: ['sh', '-c', script],
      outputType: BundlingOutput.NOT_ARCHIVED,
      local: options.forceDockerBundling ? undefined : new LocalLayerBundling(sources, target),
    },
  });
}

class LocalLayerBundling implements ILocalBundling {
  public constructor(private readonly sources: LayerSources, private readonly target: TargetArchitecture) {}

  public tryBundle(outputDir: string): boolean {
    const cc = findCompiler(this.target);
    const readelf = findReadelf(this.target);
    if (cc === undefined || readelf === undefined) {
      const docker = dockerProblem();
      if (docker === undefined) {
        return false;
      }
      throw new Error(noToolchainMessage(this.target, cc === undefined ? 'compiler' : 'readelf', docker));
    }
    const library = path.join(outputDir, LIBRARY_PATH_IN_LAYER);
    const wrapperDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shm-redirect-cc-'));
    try {
      run('sh', [this.sources.buildScript, '--arch', this.target.name, '--cc', singleWord(cc, wrapperDir), '--out', path.dirname(library)]);
    } finally {
      fs.rmSync(wrapperDir, { recursive: true, force: true });
    }
    run('sh', [this.sources.auditScript, '--arch', this.target.name, library], { READELF: readelf });
    if (elfMachine(library) !== this.target.elfMachine) {
      throw new Error(`${library} built with "${cc}" is not an ${this.target.name} ELF library`);
    }
    return true;
  }
}

/**
 * build.sh takes the compiler as one word; "zig cc -target ..." and
 * "clang --target=..." become a wrapper script in `dir`.
 */
function singleWord(cc: string, dir: string): string {
  if (!/\s/.test(cc)) {
    return cc;
  }
  const wrapper = path.join(dir, 'cc');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec ${cc} "$@"\n`, { mode: 0o755 });
  return wrapper;
}

function run(command: string, args: string[], env: Record<string, string> = {}): void {
  const result = spawnSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  if (result.error || result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim();
    const why = result.error ? result.error.message : `exit status ${result.status ?? result.signal}`;
    throw new Error(`shm_redirect.so: \`${[command, ...args].join(' ')}\` failed (${why})${output ? `:\n${output}` : ''}`);
  }
}

/** Why Docker cannot run the build, or undefined when it can. */
function dockerProblem(): string | undefined {
  const docker = process.env.CDK_DOCKER ?? 'docker';
  const result = spawnSync(docker, ['version', '--format', '{{.Server.Version}}'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
    timeout: 30_000,
  });
  if (result.error) {
    return `\`${docker}\` could not be run: ${result.error.message}`;
  }
  if (result.status !== 0) {
    const firstLine = (result.stderr ?? '').trim().split('\n')[0];
    return `\`${docker} version\` failed${firstLine ? `: ${firstLine}` : ''}`;
  }
  return undefined;
}

function noToolchainMessage(target: TargetArchitecture, missing: 'compiler' | 'readelf', dockerProblemText: string): string {
  const tried = compilerCandidates(target).map((cc) => `"${cc}"`).join(', ');
  const crossPackage = `gcc-${target.gnuTriplet.replace(/_/g, '-')}`;
  const local =
    missing === 'compiler'
      ? `no C compiler that targets ${target.gnuTriplet} was found (tried ${tried})`
      : 'no readelf was found for the ABI audit (tried $READELF, readelf, llvm-readelf)';
  return [
    `Cannot build shm_redirect.so for ${target.name} Lambda functions: ${local} and Docker is not usable (${dockerProblemText}).`,
    `Install one: on Debian/Ubuntu \`apt-get install gcc binutils\` on a ${target.name} Linux host or \`apt-get install ${crossPackage} binutils\` on any other,`,
    `or zig plus binutils or LLVM (any OS), or start a Docker engine (the build then runs in ${lambda.Runtime.PROVIDED_AL2023.bundlingImage.image}).`,
  ].join(' ');
}
