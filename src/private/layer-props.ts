import { DockerImage } from 'aws-cdk-lib';
import { LibraryBuild } from '../library-build';
import type { ShmRedirectLayerProps } from '../shm-redirect-layer';

// The deprecated forceDockerBundling counts only where libraryBuild, which replaces it, is not given.
export function libraryBuildOf(props: ShmRedirectLayerProps): LibraryBuild {
  return props.libraryBuild ?? (props.forceDockerBundling === true ? LibraryBuild.DOCKER : LibraryBuild.AUTO);
}

// The deprecated dockerImage counts only where libraryBuildImage, which replaces it, is not given.
export function buildImageOf(props: ShmRedirectLayerProps): DockerImage | undefined {
  return props.libraryBuildImage ?? props.dockerImage;
}

/** Whether two sets of props give the same layer. */
export function sameLayerBuild(a: ShmRedirectLayerProps, b: ShmRedirectLayerProps): boolean {
  return libraryBuildOf(a) === libraryBuildOf(b) && buildImageOf(a)?.image === buildImageOf(b)?.image && a.removalPolicy === b.removalPolicy;
}
