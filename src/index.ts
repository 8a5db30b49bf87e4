export * from './shm-redirect-layer';
export * from './multiprocessing-fix';
export * from './runtime-filter';
export * from './with-multiprocessing-fix';
export * from './library-build';
export * from './multiprocessing-image-code';
export * from './shm-redirect-layers';
export * from './shm-redirect-layer-publisher';
