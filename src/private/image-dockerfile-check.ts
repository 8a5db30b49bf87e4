import * as fs from 'fs';
import * as path from 'path';
import { Annotations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { TargetArchitecture } from './architecture';
import { baseChain, builtStage, copiedTo, DockerfileStage, parseDockerfile, stagesIncludedIn } from './dockerfile';

/** The named build context that holds `opt/lib/shm_redirect.so`. */
export const BUILD_CONTEXT = 'shm-redirect';
/** The line a Dockerfile adds to get the library. */
export const DOCKERFILE_LINE = `COPY --from=${BUILD_CONTEXT} /opt /opt`;
const LIBRARY_IN_IMAGE = '/opt/lib/shm_redirect.so';

export interface DockerfileCheck {
  readonly directory: string;
  readonly file?: string;
  readonly target?: string;
}

/**
 * Reads the Dockerfile of an image function at synth and adds an error
 * annotation to `fn` for what would leave the image without the library
 * where LD_PRELOAD names it, or built for another architecture. Returns the
 * built stage's `ENV LD_PRELOAD`, if any.
 */
export function checkDockerfile(fn: IConstruct, target: TargetArchitecture, check: DockerfileCheck): { imagePreload?: string } {
  const file = path.join(check.directory, check.file ?? 'Dockerfile');
  if (!fs.existsSync(file)) {
    return {}; // DockerImageAsset reports it
  }
  const shown = check.file ?? 'Dockerfile';
  const where = `${fn.node.path}: its ${shown} (${file})`;
  const error = (message: string) => Annotations.of(fn).addError(`${where} ${message}`);
  const dockerfile = parseDockerfile(fs.readFileSync(file, 'utf8'));
  const built = builtStage(dockerfile, check.target);
  if (built === undefined) {
    if (check.target !== undefined) {
      error(`has no stage named "${check.target}", the \`target\` given to MultiprocessingImageCode.fromImageAsset.`);
    }
    return {};
  }
  const stage = describe(built);

  const shadowing = dockerfile.stages.find((s) => s.name === BUILD_CONTEXT);
  if (shadowing !== undefined) {
    error(
      `names a stage "${BUILD_CONTEXT}" (line ${shadowing.line}), which hides the build context of that name that holds shm_redirect.so: rename the stage.`,
    );
    return {};
  }

  const chain = baseChain(dockerfile, built);
  const platformFrom = chain.find((s) => s.platform !== undefined && !s.platform.includes('$') && s.platform !== target.dockerPlatform);
  if (platformFrom !== undefined) {
    error(
      `builds ${stage} FROM --platform=${platformFrom.platform} (line ${platformFrom.line}), but the function's architecture is ${target.name} (${target.dockerPlatform}), and the shm-redirect context holds the ${target.name} library: drop --platform from that FROM (the image's platform follows the function's architecture), or give the function the architecture of that platform.`,
    );
  }

  const fromContext = (s: DockerfileStage) => s.copies.filter((c) => c.from !== undefined && (c.from.toLowerCase() === BUILD_CONTEXT || c.from.includes('$')));
  const included = stagesIncludedIn(dockerfile, built);
  const copies = included.flatMap(fromContext);
  if (copies.length === 0) {
    const elsewhere = dockerfile.stages.filter((s) => !included.includes(s) && fromContext(s).length > 0);
    error(
      elsewhere.length > 0
        ? `copies from the build context "${BUILD_CONTEXT}" only in ${describe(elsewhere[0])} (line ${fromContext(elsewhere[0])[0].line}), which the image it builds (${stage}) does not include: put \`${DOCKERFILE_LINE}\` in ${stage}.`
        : `never copies shm_redirect.so from the build context "${BUILD_CONTEXT}" that MultiprocessingImageCode supplies, so LD_PRELOAD=${LIBRARY_IN_IMAGE} would name a missing file: add \`${DOCKERFILE_LINE}\` to ${stage}, after its FROM.`,
    );
  } else {
    const landings = copies.map((c) => ({ copy: c, to: c.from!.includes('$') ? 'unknown' : copiedTo(c, LIBRARY_IN_IMAGE) }));
    const determined = landings.every((l) => l.to !== 'unknown');
    if (determined && !landings.some((l) => l.to === LIBRARY_IN_IMAGE)) {
      const wrong = landings[0];
      error(
        `copies from the build context "${BUILD_CONTEXT}" (line ${wrong.copy.line}) ${wrong.to === undefined ? 'without shm_redirect.so' : `so that shm_redirect.so lands at ${wrong.to}`}, but LD_PRELOAD names ${LIBRARY_IN_IMAGE}: write \`${DOCKERFILE_LINE}\`.`,
      );
    }
  }

  return { imagePreload: lastPreload(chain) };
}

/** The ENV LD_PRELOAD that wins in the built stage: the last one of the nearest stage that sets it. */
function lastPreload(chain: DockerfileStage[]): string | undefined {
  for (const s of chain) {
    if (s.preloads.length > 0) {
      return s.preloads[s.preloads.length - 1];
    }
  }
  return undefined;
}

function describe(stage: DockerfileStage): string {
  return stage.name !== undefined ? `stage "${stage.name}" (line ${stage.line})` : `the stage of line ${stage.line}`;
}
