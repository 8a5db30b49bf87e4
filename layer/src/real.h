#ifndef SHMR_REAL_H
#define SHMR_REAL_H

#include <stdatomic.h>

/* The next definition of an interposed symbol (normally glibc's), looked up
   once with dlsym(RTLD_NEXT) and cached; NULL when this glibc has none. */
void *real_next(_Atomic(void *) *slot, const char *name);

/* Same, but asking for the architecture's oldest glibc version of NAME:
   for the __xstat family, which glibc >= 2.33 keeps only as hidden
   compatibility symbols that a plain dlsym does not return. */
void *real_next_compat(_Atomic(void *) *slot, const char *name);

/* Declares next_NAME(), returning the cached next definition of NAME with
   NAME's own type. */
#define REAL_NEXT(name)                                                       \
    static __typeof__(name) *next_##name(void)                                \
    {                                                                         \
        static _Atomic(void *) slot;                                          \
        return (__typeof__(name) *)real_next(&slot, #name);                   \
    }

#define REAL_NEXT_COMPAT(name)                                                \
    static __typeof__(name) *next_##name(void)                                \
    {                                                                         \
        static _Atomic(void *) slot;                                          \
        return (__typeof__(name) *)real_next_compat(&slot, #name);            \
    }

#endif
