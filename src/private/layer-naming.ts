/**
 * Layer names of ShmRedirectLayerPublisher: `<base>-<version>-<architecture>`,
 * the version's dots as underscores (layer names allow letters, digits, `-`
 * and `_`), so that the name says which library the layer holds and each
 * library version is a layer of its own.
 */
export function publishedLayerName(base: string, libraryVersion: string, architecture: string): string {
  const name = `${base}-${libraryVersion.replace(/\./g, '_')}-${architecture}`;
  if (!/^[a-zA-Z0-9_-]+$/.test(name) || name.length > 140) {
    throw new Error(
      `Layer name "${name}" is not valid: the layerName prefix "${base}" may hold only letters, digits, - and _, and the name at most 140 characters`,
    );
  }
  return name;
}

/** The version and architecture in a layer name of {@link publishedLayerName}'s form, if it is one. */
export function layerNameParts(name: string): { libraryVersion: string; architecture: string } | undefined {
  const match = /-(\d+_\d+_\d+[a-zA-Z0-9_-]*?)-(x86_64|arm64)$/.exec(name);
  return match === null ? undefined : { libraryVersion: match[1].replace(/_/g, '.'), architecture: match[2] };
}
