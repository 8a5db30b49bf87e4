/**
 * How the layer gets its `shm_redirect.so`.
 */
export enum LibraryBuild {
  /**
   * Build from source when this machine can (a local C compiler for the
   * architecture, else Docker); otherwise use the prebuilt library this
   * package ships for the same sources, with an info annotation saying so.
   */
  AUTO = 'auto',

  /**
   * Always the prebuilt library shipped in this package (built from the same
   * sources by the package build, audited, reproducible). Needs no compiler
   * and no Docker.
   */
  PREBUILT = 'prebuilt',

  /**
   * Always build from source: a local C compiler for the architecture, else
   * Docker. Synth fails when neither can build it.
   */
  FROM_SOURCE = 'from-source',

  /**
   * Always build from source in Docker (the build image of the
   * `dockerImage` prop), even when a local compiler could.
   */
  DOCKER = 'docker',
}
