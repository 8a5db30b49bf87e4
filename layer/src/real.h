#ifndef SHMR_REAL_H
#define SHMR_REAL_H

#include <stdatomic.h>

/* The next definition of an interposed symbol (normally glibc's), looked up
   once with dlsym(RTLD_NEXT) and cached; NULL when this glibc has none. */
void *real_next(_Atomic(void *) *slot, const char *name);

/* Same, but asking for NAME at glibc symbol version VERSION: for the
   __xstat family, which glibc >= 2.33 keeps only as compatibility symbols
   that a plain dlsym need not return. */
void *real_next_version(_Atomic(void *) *slot, const char *name, const char *version);

/* The versions the __xstat family was introduced with. */
#if defined(__x86_64__)
#define GLIBC_XSTAT_VERSION "GLIBC_2.2.5"
#define GLIBC_FXSTATAT_VERSION "GLIBC_2.4"
#else
#define GLIBC_XSTAT_VERSION "GLIBC_2.17"
#define GLIBC_FXSTATAT_VERSION "GLIBC_2.17"
#endif

/* Declares next_NAME(), returning the cached next definition of NAME with
   NAME's own type. */
#define REAL_NEXT(name)                                                       \
    static __typeof__(name) *next_##name(void)                                \
    {                                                                         \
        static _Atomic(void *) slot;                                          \
        return (__typeof__(name) *)real_next(&slot, #name);                   \
    }

#define REAL_NEXT_VERSION(name, version)                                      \
    static __typeof__(name) *next_##name(void)                                \
    {                                                                         \
        static _Atomic(void *) slot;                                          \
        return (__typeof__(name) *)real_next_version(&slot, #name, version);  \
    }

#endif
