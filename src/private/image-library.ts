import { IConstruct } from 'constructs';
import { TargetArchitecture } from './architecture';

/** What MultiprocessingImageCode tells the aspect about a function whose image carries the library. */
export interface ImageLibrary {
  readonly target: TargetArchitecture;
  /** `ENV LD_PRELOAD` of the built stage as the Dockerfile writes it, which the function's own LD_PRELOAD replaces on Lambda. */
  readonly imagePreload?: string;
}

const functions = new WeakMap<IConstruct, ImageLibrary>();

export function registerImageLibrary(fn: IConstruct, library: ImageLibrary): void {
  functions.set(fn, library);
}

/** The library of an image function built by MultiprocessingImageCode, if it is one. */
export function imageLibraryOf(fn: IConstruct): ImageLibrary | undefined {
  return functions.get(fn);
}
