#ifndef SHMR_NUM_H
#define SHMR_NUM_H

#include <stddef.h>

/* Decimal numbers in names, tags and debug lines, without stdio (the
   library keeps to system calls and a few string functions). */

/* Writes V in decimal at P (no terminator); returns the end. */
static inline char *num_put(char *p, unsigned long long v)
{
    char digits[20];
    int n = 0;
    do
        digits[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    while (n > 0)
        *p++ = digits[--n];
    return p;
}

/* Writes V in exactly DIGITS decimal digits at P, zero-padded (the low
   digits only, should V need more); returns the end. */
static inline char *num_put_width(char *p, unsigned long long v, int digits)
{
    for (int i = digits - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + digits;
}

/* Reads the decimal number at S into *V; returns the first character after
   it, or NULL when S does not start with a digit or the value overflows. */
static inline const char *num_get(const char *s, unsigned long long *v)
{
    if (*s < '0' || *s > '9')
        return NULL;
    unsigned long long x = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        unsigned d = (unsigned)(*s - '0');
        if (x > (~0ULL - d) / 10)
            return NULL;
        x = x * 10 + d;
    }
    *v = x;
    return s;
}

#endif
