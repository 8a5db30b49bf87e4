#ifndef SHMR_REAL_H
#define SHMR_REAL_H

#include <stdatomic.h>
#include <stddef.h>

/* The next definition of an interposed symbol (normally glibc's), looked up
   once with dlsym(RTLD_NEXT) into SLOT and cached; NULL when this glibc has
   none.  The __xstat family is asked for at the version it was introduced
   with: glibc >= 2.33 keeps it only as compatibility symbols, which a plain
   dlsym need not return. */
void *real_next(_Atomic(void *) *slot, const char *name);

/* What a slot holds once the lookup found nothing. */
extern char real_absent __attribute__((visibility("hidden")));

/* The cached definition, or NULL when it is not looked up yet or absent:
   the only part of the lookup on an interposer's fast path. */
static inline void *real_cached(_Atomic(void *) *slot)
{
    void *p = atomic_load_explicit(slot, memory_order_acquire);
    return p == (void *)&real_absent ? NULL : p;
}

#endif
