import { Annotations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The id to acknowledge the notice by: `Annotations.of(app).acknowledgeWarning(PREBUILT_NOTICE_ID)`. */
export const PREBUILT_NOTICE_ID = 'cdk-lambda-multiprocessing:prebuiltLibrary';

const told = new WeakSet<IConstruct>();

/**
 * One short warning per app when LibraryBuild.AUTO takes the prebuilt library
 * because this machine cannot build it: worth knowing once, with an id to
 * acknowledge it by, not a paragraph per architecture on every synth.
 */
export function notePrebuiltFallback(scope: IConstruct, reason: string): void {
  const root = scope.node.root;
  if (told.has(root)) {
    return;
  }
  told.add(root);
  Annotations.of(scope).addWarningV2(
    PREBUILT_NOTICE_ID,
    `shm_redirect.so is the prebuilt library this package ships (${reason}), built from the same sources. Set libraryBuild: LibraryBuild.PREBUILT to skip the build attempt.`,
  );
}
