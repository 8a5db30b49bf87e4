import { Annotations, AssetStaging, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import { LibraryBuild } from '../library-build';
import { TargetArchitecture } from './architecture';
import { checkLibrary, LayerCodeOptions, layerCode, rememberStagedLibrary, unbuiltPlaceholder } from './bundling';
import { LayerSources } from './layer-sources';
import { notePrebuiltFallback } from './prebuilt-notice';

/** A layer's code for the library, and what to call once the layer that holds it exists. */
export interface LibraryLayerCode {
  readonly code: lambda.Code;
  readonly staged: (layer: lambda.LayerVersion) => void;
}

/**
 * The library for `target` as layer code, whoever publishes it (a stack's
 * ShmRedirectLayer, the organisation's publisher): decided once per synth, a
 * build that cannot work an error annotation on `scope` (synth stops there,
 * before any bundling), and a Docker build remembered once staged so that
 * nothing else in this synth builds it again.
 */
export function libraryLayerCode(
  scope: IConstruct,
  sources: LayerSources,
  target: TargetArchitecture,
  build: LibraryBuild,
  libraryBuildImage: DockerImage | undefined,
): LibraryLayerCode {
  const options: LayerCodeOptions = { build, libraryBuildImage, onPrebuilt: (reason) => notePrebuiltFallback(scope, reason) };
  const preparation = checkLibrary(scope, sources, target, options);
  if (preparation?.kind === 'failed') {
    Annotations.of(scope).addError(preparation.message);
    return { code: lambda.Code.fromAsset(unbuiltPlaceholder()), staged: () => undefined };
  }
  return {
    code: layerCode(sources, target, options),
    staged: (layer) => {
      const staging = layer.node.tryFindChild('Code')?.node.tryFindChild('Stage');
      if (preparation?.kind === 'docker' && staging instanceof AssetStaging) {
        rememberStagedLibrary(sources, target, options, staging.absoluteStagedPath, '');
      }
    },
  };
}
