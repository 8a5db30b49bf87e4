/** Where ShmRedirectLayerPublisher writes its SSM parameters unless told otherwise. */
export const DEFAULT_PARAMETER_PREFIX = '/cdk-lambda-multiprocessing/shm-redirect';

/** The `latest` parameter's last segment, beside the versioned ones. */
export const LATEST = 'latest';

/**
 * The SSM parameter that holds the layer version ARN for `architecture`:
 * `<prefix>/<architecture>/latest`, or `<prefix>/<architecture>/<version>`
 * for one library version.
 */
export function layerParameterName(prefix: string | undefined, architecture: string, version: string = LATEST): string {
  const base = prefix ?? DEFAULT_PARAMETER_PREFIX;
  if (!/^\/[a-zA-Z0-9_.\-/]*[a-zA-Z0-9_.-]$/.test(base) || base.includes('//')) {
    throw new Error(
      `SSM parameter prefix "${base}" is not a parameter path: it must start with "/", not end with "/", and hold only letters, digits and _ . - /`,
    );
  }
  return `${base}/${architecture}/${version}`;
}
