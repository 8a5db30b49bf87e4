import { Annotations, Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

export const EPHEMERAL_STORAGE_HINT_ID = 'cdk-lambda-multiprocessing:ephemeralStorage';

/** Lambda's defaults, MB. */
const DEFAULT_MEMORY = 128;
const DEFAULT_EPHEMERAL_STORAGE = 512;
/** Memory at least this many times the ephemeral storage is worth a word (2,048 MB against the default 512). */
const RATIO = 4;

/**
 * With the fix, what libraries keep in `/dev/shm` as a RAM disk (pandarallel's
 * memory files, joblib's memmaps, `SharedMemory`) lands in `/tmp`, whose size
 * is the ephemeral storage: a function sized for its data in memory but not
 * on `/tmp` fails with ENOSPC or a truncated pickle. One warning, with an id,
 * when the memory is far above the ephemeral storage; nothing for sizes that
 * are tokens.
 */
export function hintEphemeralStorage(fn: lambda.Function): void {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const memory = cfn.memorySize ?? DEFAULT_MEMORY;
  const storage = (Stack.of(fn).resolve(cfn.ephemeralStorage) as { size?: unknown } | undefined)?.size ?? DEFAULT_EPHEMERAL_STORAGE;
  if (Token.isUnresolved(memory) || typeof storage !== 'number' || memory < RATIO * storage) {
    return;
  }
  Annotations.of(fn).addWarningV2(
    EPHEMERAL_STORAGE_HINT_ID,
    `${fn.node.path} has ${memory} MB of memory but ${storage} MB of ephemeral storage: with the multiprocessing fix, shared memory and what libraries keep in /dev/shm (pandarallel, joblib's memmaps) live in /tmp, so data that fits in memory can fill /tmp (ENOSPC, "pickle data was truncated"). `
      + `If the function shares large data between processes, raise \`ephemeralStorageSize\`; otherwise acknowledge ${EPHEMERAL_STORAGE_HINT_ID}.`,
  );
}
