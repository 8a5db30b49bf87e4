#include "real.h"

#include <dlfcn.h>
#include <stddef.h>

/* glibc 2.34 moved dlsym/dlvsym into libc.so.6 under a new default version
   GLIBC_2.34.  Binding to that would stop the dynamic linker from starting
   any process on an older glibc, so pin the architecture's original version,
   which every glibc provides (libdl.so.2 before 2.34, libc.so.6 after; the
   build links libdl.so.2 explicitly so it is loaded in every process). */
#if defined(__x86_64__)
#define GLIBC_FLOOR "GLIBC_2.2.5"
#elif defined(__aarch64__)
#define GLIBC_FLOOR "GLIBC_2.17"
#else
#error "shm_redirect supports x86_64 and aarch64 only"
#endif

__asm__(".symver dlsym,dlsym@" GLIBC_FLOOR);
__asm__(".symver dlvsym,dlvsym@" GLIBC_FLOOR);

/* Marks "looked up, not present" so a missing symbol costs one lookup. */
static char absent;

static void *cached(_Atomic(void *) *slot, void *found)
{
    atomic_store_explicit(slot, found ? found : (void *)&absent, memory_order_release);
    return found;
}

void *real_next(_Atomic(void *) *slot, const char *name)
{
    void *p = atomic_load_explicit(slot, memory_order_acquire);
    if (p)
        return p == (void *)&absent ? NULL : p;
    return cached(slot, dlsym(RTLD_NEXT, name));
}

void *real_next_version(_Atomic(void *) *slot, const char *name, const char *version)
{
    void *p = atomic_load_explicit(slot, memory_order_acquire);
    if (p)
        return p == (void *)&absent ? NULL : p;
    return cached(slot, dlvsym(RTLD_NEXT, name, version));
}
