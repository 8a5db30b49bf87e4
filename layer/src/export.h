#ifndef SHMR_EXPORT_H
#define SHMR_EXPORT_H

/* Everything is built with -fvisibility=hidden; only the interposed libc
   entry points are made visible, so the library never shadows anything else. */
#define SHMR_EXPORT __attribute__((visibility("default")))

#endif
