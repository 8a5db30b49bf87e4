/* glibc's name rules for sem_open/sem_unlink/shm_open/shm_unlink, checked
   against fixed expectations and, where glibc itself works (a host with
   /dev/shm), against glibc's own functions called directly. */
#include "common.h"

#include <dlfcn.h>
#include <semaphore.h>
#include <sys/mman.h>

static sem_t *(*glibc_sem_open)(const char *, int, ...);
static int (*glibc_sem_unlink)(const char *);
static int (*glibc_shm_open)(const char *, int, mode_t);
static int (*glibc_shm_unlink)(const char *);

static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Result of one call as "ok" or the errno name, for comparing with glibc. */
static int outcome(int failed)
{
    return failed ? errno : 0;
}

static void sem_case(const char *label, const char *name, int err)
{
    errno = 0;
    sem_t *s = sem_open(name, O_CREAT | O_EXCL, 0600, 1);
    int got = outcome(s == SEM_FAILED);
    check(got == err, "sem_open(%s) -> %s", label, err ? strerror(err) : "success");
    if (s != SEM_FAILED) {
        sem_close(s);
        sem_unlink(name);
    }
    if (glibc_sem_open) {
        errno = 0;
        s = glibc_sem_open(name, O_CREAT | O_EXCL, 0600, 1);
        check(outcome(s == SEM_FAILED) == got, "glibc's sem_open(%s) agrees", label);
        if (s != SEM_FAILED)
            glibc_sem_unlink(name);
    }
    errno = 0;
    int u = outcome(sem_unlink(name) != 0);
    int uerr = err == ENAMETOOLONG ? ENAMETOOLONG : ENOENT;
    check(u == uerr, "sem_unlink(%s) of a missing or invalid name -> %s", label, strerror(uerr));
    if (glibc_sem_unlink) {
        errno = 0;
        check(outcome(glibc_sem_unlink(name) != 0) == u, "glibc's sem_unlink(%s) agrees", label);
    }
}

static void shm_case(const char *label, const char *name, int err)
{
    errno = 0;
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    int got = outcome(fd < 0);
    check(got == err, "shm_open(%s) -> %s", label, err ? strerror(err) : "success");
    if (fd >= 0) {
        close(fd);
        shm_unlink(name);
    }
    if (glibc_shm_open) {
        errno = 0;
        fd = glibc_shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
        check(outcome(fd < 0) == got, "glibc's shm_open(%s) agrees", label);
        if (fd >= 0) {
            close(fd);
            glibc_shm_unlink(name);
        }
    }
    errno = 0;
    int u = outcome(shm_unlink(name) != 0);
    int uerr = err == ENAMETOOLONG ? ENAMETOOLONG : ENOENT;
    check(u == uerr, "shm_unlink(%s) of a missing or invalid name -> %s", label, strerror(uerr));
    if (glibc_shm_unlink) {
        errno = 0;
        check(outcome(glibc_shm_unlink(name) != 0) == u, "glibc's shm_unlink(%s) agrees", label);
    }
}

int main(void)
{
    if (!redirected()) {
        void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
        if (libc) {
            glibc_sem_open = (sem_t * (*)(const char *, int, ...)) dlsym(libc, "sem_open");
            glibc_sem_unlink = (int (*)(const char *))dlsym(libc, "sem_unlink");
            glibc_shm_open = (int (*)(const char *, int, mode_t))dlsym(libc, "shm_open");
            glibc_shm_unlink = (int (*)(const char *))dlsym(libc, "shm_unlink");
        }
        check(glibc_sem_open && glibc_shm_open, "glibc's own sem_open/shm_open found for comparison");
    } else {
        skip("comparison with glibc's own functions", "no /dev/shm here, glibc's would fail");
    }

    char base[64];
    uniq(base, sizeof base, "n");
    char lead[80];
    snprintf(lead, sizeof lead, "///%s", base);
    char dots[80];
    snprintf(dots, sizeof dots, "../%s", base);

    sem_case("\"\"", "", EINVAL);
    sem_case("\"/\"", "/", EINVAL);
    sem_case("\"///\"", "///", EINVAL);
    sem_case("\"a/b\"", "a/b", EINVAL);
    sem_case("\"../x\"", dots, EINVAL);
    sem_case("300 chars", repeat('s', 300), EINVAL);
    /* glibc's buffer takes 255 name bytes; "sem." + 252 exceeds the
       kernel's 255-byte file name limit. */
    sem_case("256 chars", repeat('s', 256), EINVAL);
    sem_case("252 chars", repeat('s', 252), ENAMETOOLONG);
    sem_case("251 chars", repeat('s', 251), 0);
    sem_case("leading slashes", lead, 0);

    shm_case("\"\"", "", EINVAL);
    shm_case("\"/\"", "/", EINVAL);
    shm_case("\"a/b\"", "a/b", EINVAL);
    shm_case("\"../x\"", dots, EINVAL);
    shm_case("300 chars", repeat('m', 300), EINVAL);
    shm_case("260 chars", repeat('m', 260), EINVAL);
    shm_case("256 chars", repeat('m', 256), ENAMETOOLONG);
    shm_case("255 chars", repeat('m', 255), 0);
    shm_case("leading slashes", lead, 0);

    /* Leading slashes are skipped: "///x" and "x" are one object. */
    sem_t *a = sem_open(lead, O_CREAT | O_EXCL, 0600, 0);
    char file[PATH_MAX];
    object_file(file, sizeof file, "sem.", base);
    check(a != SEM_FAILED && raw_exists(file), "sem_open(\"///name\") creates %s", file);
    sem_t *b = sem_open(base, 0);
    check(b == a, "sem_open(\"name\") returns the same semaphore as \"///name\"");
    check(sem_unlink(base) == 0 && !raw_exists(file), "sem_unlink(\"name\") removes it");
    sem_close(a);
    sem_close(b);
    const char *volatile null_name = NULL;
    CHECK_ERR(sem_open(null_name, 0), SEM_FAILED, EINVAL, "sem_open(NULL) -> EINVAL, no crash");
    CHECK_ERR(shm_open(null_name, O_RDONLY, 0), -1, EINVAL, "shm_open(NULL) -> EINVAL, no crash");
    return finish();
}
