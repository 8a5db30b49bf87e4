#include "real.h"

#include <dlfcn.h>
#include <string.h>

/* glibc 2.34 moved dlsym/dlvsym into libc.so.6 under a new default version
   GLIBC_2.34.  Binding to that would stop the dynamic linker from starting
   any process on an older glibc, so pin the architecture's original version,
   which every glibc provides (libdl.so.2 before 2.34, libc.so.6 after; the
   build links libdl.so.2 explicitly so it is loaded in every process). */
#if defined(__x86_64__)
#define GLIBC_FLOOR "GLIBC_2.2.5"
#define GLIBC_FXSTATAT "GLIBC_2.4"
#elif defined(__aarch64__)
#define GLIBC_FLOOR "GLIBC_2.17"
#define GLIBC_FXSTATAT "GLIBC_2.17"
#else
#error "shm_redirect supports x86_64 and aarch64 only"
#endif

__asm__(".symver dlsym,dlsym@" GLIBC_FLOOR);
__asm__(".symver dlvsym,dlvsym@" GLIBC_FLOOR);

/* A missing symbol costs one lookup, not one per call. */
char real_absent;

/* The version the __xstat family (__xstat, __lxstat, __fxstatat and their
   64 forms) was introduced with, or NULL for any other name. */
static const char *compat_version(const char *name)
{
    if (strncmp(name, "__fxstatat", 10) == 0)
        return GLIBC_FXSTATAT;
    if (strncmp(name, "__xstat", 7) == 0 || strncmp(name, "__lxstat", 8) == 0)
        return GLIBC_FLOOR;
    return NULL;
}

void *real_next(_Atomic(void *) *slot, const char *name)
{
    void *p = atomic_load_explicit(slot, memory_order_acquire);
    if (!p) {
        const char *version = compat_version(name);
        p = version ? dlvsym(RTLD_NEXT, name, version) : dlsym(RTLD_NEXT, name);
        if (!p)
            p = &real_absent;
        atomic_store_explicit(slot, p, memory_order_release);
    }
    return p == (void *)&real_absent ? NULL : p;
}
