#include "debug.h"

#include "target.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

struct line {
    char buf[1024];
    size_t len;
};

static void add(struct line *l, const char *s)
{
    size_t n = strlen(s);
    size_t room = sizeof l->buf - 1 - l->len; /* keep one byte for '\n' */
    if (n > room)
        n = room;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void emit(struct line *l)
{
    int saved = errno;
    l->buf[l->len++] = '\n';
    ssize_t ignored = write(2, l->buf, l->len);
    (void)ignored;
    errno = saved;
}

void debug_op(const struct shm_target *t, const char *op, const char *from, const char *to)
{
    if (!t->debug)
        return;
    struct line l = { .len = 0 };
    add(&l, "shm_redirect: ");
    add(&l, op);
    add(&l, " ");
    add(&l, from);
    if (to) {
        add(&l, " -> ");
        add(&l, to);
    }
    emit(&l);
}

void warn_line(const char *a, const char *b, const char *c)
{
    struct line l = { .len = 0 };
    add(&l, "shm_redirect: ");
    add(&l, a);
    add(&l, b);
    add(&l, c);
    emit(&l);
}
