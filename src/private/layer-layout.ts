/** Where the library lands inside the layer zip (→ /opt/lib on Lambda). */
export const LIBRARY_PATH_IN_LAYER = 'lib/shm_redirect.so';
