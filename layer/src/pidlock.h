#ifndef SHMR_PIDLOCK_H
#define SHMR_PIDLOCK_H

/* A lock whose word holds the pid of the process whose thread owns it.
   After a fork the child's copy may name the parent: no thread of the child
   holds it then, so the child takes it over.  Whatever a lock protects must
   therefore stay consistent between any two of its stores.  This avoids
   pthread_atfork and the pthread symbols that moved between libpthread and
   libc in glibc 2.34. */

#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

/* Returns the caller's pid. */
static inline int pidlock_take(atomic_int *owner)
{
    int self = (int)getpid();
    for (;;) {
        int seen = 0;
        if (atomic_compare_exchange_weak_explicit(owner, &seen, self, memory_order_acquire, memory_order_relaxed))
            return self;
        if (seen != 0 && seen != self
            && atomic_compare_exchange_strong_explicit(owner, &seen, self, memory_order_acquire,
                                                       memory_order_relaxed))
            return self;
        sched_yield();
    }
}

static inline void pidlock_drop(atomic_int *owner)
{
    atomic_store_explicit(owner, 0, memory_order_release);
}

#endif
