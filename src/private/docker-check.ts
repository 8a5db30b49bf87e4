import { spawnSync } from 'child_process';
import { DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { TargetArchitecture } from './architecture';

const NO_COMPILER = 'shm-redirect:no-compiler';

/**
 * Why Docker cannot build the library for `target` in `image`, or undefined
 * when it can: checked with one small container of the build's platform
 * before the build, so a missing engine, emulator or compiler is reported as
 * such rather than as a failed build.
 */
export function dockerProblem(target: TargetArchitecture, image: DockerImage): string | undefined {
  const docker = process.env.CDK_DOCKER ?? 'docker';
  const version = runDocker(docker, ['version', '--format', '{{.Server.Version}}']);
  if (version.error) {
    return `\`${docker}\` could not be run: ${version.error.message}. Install Docker or podman (for podman: \`export CDK_DOCKER=podman\`), or set CDK_DOCKER to the client you have`;
  }
  if (version.status !== 0) {
    return `\`${docker} version\` failed${firstLine(version.stderr)}. Start the engine (Docker Desktop, \`systemctl start docker\`), or set CDK_DOCKER to another client (podman)`;
  }

  const probe = runDocker(docker, [
    'run',
    '--rm',
    '--platform',
    target.dockerPlatform,
    image.image,
    'sh',
    '-c',
    `uname -m; command -v cc || command -v gcc || echo ${NO_COMPILER}`,
  ]);
  const stderr = probe.stderr ?? '';
  if (probe.status !== 0 && /exec format error/i.test(stderr)) {
    return [
      `${docker} cannot run ${target.dockerPlatform} containers on this ${process.arch} machine: no emulator for ${target.name} is registered (exec format error).`,
      'Docker Desktop (macOS, Windows) has one built in; on Linux register qemu with',
      `\`docker run --privileged --rm tonistiigi/binfmt --install ${target.name}\` or, on Debian/Ubuntu, \`apt-get install qemu-user-static binfmt-support\``,
    ].join(' ');
  }
  if (probe.error || probe.status !== 0) {
    return `\`${docker} run --platform ${target.dockerPlatform} ${image.image}\` failed${firstLine(probe.error?.message ?? stderr)}`;
  }
  const [machine, compiler] = (probe.stdout ?? '').trim().split('\n');
  const expected = target.gnuTriplet.split('-')[0];
  if (machine !== expected) {
    return `${image.image} runs as ${machine} under --platform ${target.dockerPlatform}, not ${expected}: it has no ${target.dockerPlatform} variant`;
  }
  if (compiler === undefined || compiler === NO_COMPILER) {
    return `the image ${image.image} (${target.dockerPlatform}) has no C compiler (\`cc\` or \`gcc\`): use an image with gcc and binutils, like the default ${lambda.Runtime.PROVIDED_AL2023.bundlingImage.image}`;
  }
  return undefined;
}

function runDocker(docker: string, args: string[]) {
  return spawnSync(docker, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: process.env, timeout: 300_000 });
}

function firstLine(text: string | undefined): string {
  const line = (text ?? '').trim().split('\n')[0];
  return line ? `: ${line}` : '';
}
