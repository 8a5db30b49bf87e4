#ifndef SHMR_DEBUG_H
#define SHMR_DEBUG_H

/* One line "shm_redirect: OP FROM -> TO" on stderr, written with a single
   write(2) so lines from concurrent processes do not interleave; TO may be
   NULL.  Does nothing unless T says SHM_REDIRECT_DEBUG=1. */
struct shm_target;

void debug_op(const struct shm_target *t, const char *op, const char *from, const char *to);

/* An unconditional one-line warning on stderr: A, B and C concatenated. */
void warn_line(const char *a, const char *b, const char *c);

#endif
