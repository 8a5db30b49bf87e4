import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * What the build needs to know about one Lambda architecture: the name
 * `layer/build.sh --arch` takes, the Docker platform of the build container,
 * and the ELF machine a correct library carries.
 */
export interface TargetArchitecture {
  readonly lambda: lambda.Architecture;
  /** `x86_64` or `arm64`, as `layer/build.sh --arch` spells them. */
  readonly name: 'x86_64' | 'arm64';
  readonly dockerPlatform: string;
  /** e_machine of the ELF header (EM_X86_64, EM_AARCH64). */
  readonly elfMachine: number;
  /** GNU triplet, the prefix of Debian's cross compilers. */
  readonly gnuTriplet: string;
  /** Names `process.arch` gives a host of this architecture. */
  readonly nodeArch: string;
}

const TARGETS: TargetArchitecture[] = [
  {
    lambda: lambda.Architecture.X86_64,
    name: 'x86_64',
    dockerPlatform: 'linux/amd64',
    elfMachine: 62,
    gnuTriplet: 'x86_64-linux-gnu',
    nodeArch: 'x64',
  },
  {
    lambda: lambda.Architecture.ARM_64,
    name: 'arm64',
    dockerPlatform: 'linux/arm64',
    elfMachine: 183,
    gnuTriplet: 'aarch64-linux-gnu',
    nodeArch: 'arm64',
  },
];

export function targetOf(architecture: lambda.Architecture): TargetArchitecture {
  const target = TARGETS.find((t) => t.lambda.name === architecture.name);
  if (!target) {
    throw new Error(
      `shm_redirect.so has no build for Lambda architecture "${architecture.name}"; supported: ${TARGETS.map((t) => t.lambda.name).join(', ')}`,
    );
  }
  return target;
}

/** True when a compiler for the host itself produces code for `target`. */
export function isNativeTarget(target: TargetArchitecture): boolean {
  return process.platform === 'linux' && process.arch === target.nodeArch;
}
