#include "semtab.h"

#include "pidlock.h"
#include "sys.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

/* One open semaphore.  Entries live in chunks that are never freed or
   moved, and are found through two hash indexes (by file, for sem_open, and
   by address, for sem_close) that stay one probe or two at any size, where
   the table used to be a list scanned on every call.

   Fork-safety: the lock (pidlock.h) may be taken over by a child forked
   while another thread of the parent held it, so every update below leaves
   the table usable between any two of its stores: an entry is filled before
   an index points to it, an index is rebuilt aside and published by one
   pointer store, and the index it replaces is freed only afterwards. */
struct entry {
    dev_t dev;
    ino_t ino;
    unsigned long refs;
    sem_t *sem;
    struct entry *next_free;
};

#define CHUNK_ENTRIES 64

/* Open addressing with linear probing: a slot is empty (NULL), a deleted
   entry's (GONE) or an entry's.  At most half the slots are in use. */
struct index {
    size_t mask;
    size_t used; /* entries and GONE marks */
    struct entry **by_file;
    struct entry **by_addr;
};

static char gone_mark;
#define GONE ((struct entry *)&gone_mark)

static struct index *_Atomic table;
static struct entry *free_list;
static atomic_int lock_owner;

static size_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdu;
    x ^= x >> 33;
    x *= 0xc4ceb93fe5c75f53u;
    x ^= x >> 33;
    return (size_t)x;
}

static size_t file_hash(dev_t dev, ino_t ino)
{
    return mix((uint64_t)ino ^ ((uint64_t)dev * 0x9e3779b97f4a7c15u));
}

static size_t addr_hash(const sem_t *sem)
{
    return mix((uint64_t)(uintptr_t)sem);
}

static struct entry *find_file(const struct index *ix, dev_t dev, ino_t ino)
{
    if (!ix)
        return NULL;
    for (size_t i = file_hash(dev, ino) & ix->mask;; i = (i + 1) & ix->mask) {
        struct entry *e = ix->by_file[i];
        if (!e)
            return NULL;
        if (e != GONE && e->dev == dev && e->ino == ino)
            return e;
    }
}

/* The by_addr slot holding SEM's entry, or NULL. */
static struct entry **find_addr(const struct index *ix, const sem_t *sem)
{
    if (!ix)
        return NULL;
    for (size_t i = addr_hash(sem) & ix->mask;; i = (i + 1) & ix->mask) {
        struct entry *e = ix->by_addr[i];
        if (!e)
            return NULL;
        if (e != GONE && e->sem == sem)
            return &ix->by_addr[i];
    }
}

static struct entry **file_slot_of(const struct index *ix, const struct entry *e)
{
    for (size_t i = file_hash(e->dev, e->ino) & ix->mask;; i = (i + 1) & ix->mask) {
        if (ix->by_file[i] == e)
            return &ix->by_file[i];
        if (!ix->by_file[i])
            return NULL;
    }
}

static void put(struct entry **slots, size_t mask, size_t hash, struct entry *e)
{
    size_t i = hash & mask;
    while (slots[i] && slots[i] != GONE)
        i = (i + 1) & mask;
    slots[i] = e;
}

/* A new index for LIVE entries (and the one being added), with room to
   grow: the old one stays intact for a child forked meanwhile. */
static struct index *rebuilt(const struct index *old, size_t live)
{
    size_t cap = 64;
    while (cap < 4 * (live + 1))
        cap *= 2;
    struct index *ix = malloc(sizeof *ix);
    struct entry **f = calloc(cap, sizeof *f), **a = calloc(cap, sizeof *a);
    if (!ix || !f || !a) {
        free(ix);
        free(f);
        free(a);
        return NULL;
    }
    ix->mask = cap - 1;
    ix->used = 0;
    ix->by_file = f;
    ix->by_addr = a;
    for (size_t i = 0; old && i <= old->mask; i++) {
        struct entry *e = old->by_file[i];
        if (e && e != GONE) {
            put(f, ix->mask, file_hash(e->dev, e->ino), e);
            put(a, ix->mask, addr_hash(e->sem), e);
            ix->used++;
        }
    }
    return ix;
}

static size_t live_entries;

/* An index with room for one more entry; NULL when out of memory. */
static struct index *room_for_one(void)
{
    struct index *ix = atomic_load_explicit(&table, memory_order_relaxed);
    if (ix && 2 * (ix->used + 1) <= ix->mask + 1)
        return ix;
    struct index *grown = rebuilt(ix, live_entries);
    if (!grown)
        return NULL;
    atomic_store_explicit(&table, grown, memory_order_release);
    if (ix) {
        free(ix->by_file);
        free(ix->by_addr);
        free(ix);
    }
    return grown;
}

static struct entry *new_entry(void)
{
    if (!free_list) {
        struct entry *chunk = calloc(CHUNK_ENTRIES, sizeof *chunk);
        if (!chunk)
            return NULL;
        for (size_t i = 0; i < CHUNK_ENTRIES; i++) {
            chunk[i].next_free = free_list;
            free_list = &chunk[i];
        }
    }
    struct entry *e = free_list;
    free_list = e->next_free;
    return e;
}

sem_t *semtab_add(int fd, sem_t *mapped)
{
    sem_t *result = SEM_FAILED;
    struct stat st;
    if (sys_fstat(fd, &st) != 0)
        goto out;
    /* A file shorter than a semaphore would fault on first use. */
    if (mapped == SEM_FAILED && (!S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(sem_t))) {
        errno = EINVAL;
        goto out;
    }

    pidlock_take(&lock_owner);
    struct entry *e = find_file(atomic_load_explicit(&table, memory_order_relaxed), st.st_dev, st.st_ino);
    if (e) {
        e->refs++;
        result = e->sem;
    } else {
        struct index *ix = room_for_one();
        e = ix ? new_entry() : NULL;
        if (!e)
            errno = ENOMEM;
        if (e && mapped == SEM_FAILED) {
            void *m = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            mapped = m == MAP_FAILED ? SEM_FAILED : m;
        }
        if (e && mapped == SEM_FAILED) {
            e->next_free = free_list;
            free_list = e;
        } else if (e) {
            e->dev = st.st_dev;
            e->ino = st.st_ino;
            e->refs = 1;
            e->sem = mapped;
            put(ix->by_addr, ix->mask, addr_hash(mapped), e);
            put(ix->by_file, ix->mask, file_hash(st.st_dev, st.st_ino), e);
            ix->used++;
            live_entries++;
            result = mapped;
        }
    }
    pidlock_drop(&lock_owner);

out:
    if (mapped != SEM_FAILED && mapped != result) {
        int saved = errno;
        munmap(mapped, sizeof(sem_t));
        errno = saved;
    }
    return result;
}

int semtab_release(sem_t *sem)
{
    int found = 0, unmap = 0;
    pidlock_take(&lock_owner);
    struct index *ix = atomic_load_explicit(&table, memory_order_relaxed);
    struct entry **slot = find_addr(ix, sem);
    if (slot) {
        struct entry *e = *slot;
        found = 1;
        /* Out of both indexes before unmapping, so that a child forked
           in between never finds the address; by file first, so that it
           never hands out again an address it cannot close. */
        if (e->refs <= 1) {
            struct entry **fslot = file_slot_of(ix, e);
            if (fslot)
                *fslot = GONE;
            *slot = GONE;
            e->next_free = free_list;
            free_list = e;
            live_entries--;
            unmap = 1;
        } else {
            e->refs--;
        }
    }
    pidlock_drop(&lock_owner);
    if (!found || (unmap && munmap(sem, sizeof(sem_t)) != 0))
        return -1;
    return 0;
}
