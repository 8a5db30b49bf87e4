/* No split brain: three new groups reclaiming a dead group's 50 objects
   while two live runtimes open the same names with O_CREAT, 200 rounds
   (SHMR_TEST_ROUNDS to choose).  Afterwards both runtimes must hold, for every
   name, the file the name reaches: never two files for one name (two
   processes "sharing" a lock that is really two), never a file no name
   reaches.  (arm64: 20 rounds, as it runs under qemu-user here.)  The
   forced interleaving (a reclaimer stopped at its unlinkat) is t_keep's
   "race" case.

   This process never uses the library itself: its forked children start
   afresh, each a first use. */
#include "common.h"

#include <signal.h>
#include <sys/mman.h>

#define NAMES 50
#define RECLAIMERS 3
#define OPENERS 2

static char dir[PATH_MAX];

static void name_of(char *buf, size_t len, int i)
{
    snprintf(buf, len, "split-%d", i);
}

/* A new group's first use: its reclaim.  It says on STARTED when it is about
   to begin, so that the openers start with it: under qemu-user a fork takes
   long enough that openers sent off beside it would be done before it looks. */
static void reclaimer(int started)
{
    setpgid(0, 0);
    if (write(started, "s", 1) != 1)
        _exit(1);
    int fd = shm_open("split-none", O_RDONLY, 0);
    _exit(fd < 0 && errno == ENOENT ? 0 : 1);
}

/* A dead group: makes every name, then exits. */
static void dead_group(void)
{
    setpgid(0, 0);
    for (int i = 0; i < NAMES; i++) {
        char n[32];
        name_of(n, sizeof n, i);
        int fd = shm_open(n, O_CREAT | O_RDWR, 0600);
        if (fd < 0)
            _exit(1);
    }
    _exit(0);
}

/* A live runtime: per round ("g" on CMD), opens every name with O_CREAT,
   keeps them open, writes their inodes to OUT; "r" closes them. */
static void opener(int cmd, int out)
{
    setpgid(0, 0);
    int fds[NAMES];
    int none = shm_open("split-none", O_RDONLY, 0); /* joins before the rounds */
    (void)none;
    char c;
    while (read(cmd, &c, 1) == 1) {
        unsigned long inos[NAMES];
        if (c == 'g') {
            for (int i = 0; i < NAMES; i++) {
                char n[32];
                name_of(n, sizeof n, i);
                struct stat st;
                fds[i] = shm_open(n, O_CREAT | O_RDWR, 0600);
                inos[i] = fds[i] >= 0 && fstat(fds[i], &st) == 0 ? (unsigned long)st.st_ino : 0;
                if (!inos[i])
                    fprintf(stderr, "opener: %s: %s\n", n, strerror(errno));
            }
            if (write(out, inos, sizeof inos) != (ssize_t)sizeof inos)
                _exit(1);
        } else {
            for (int i = 0; i < NAMES; i++)
                close(fds[i]);
            if (write(out, "r", 1) != 1)
                _exit(1);
        }
    }
    _exit(0);
}

static unsigned long named(int i)
{
    char n[32], p[PATH_MAX + 40];
    name_of(n, sizeof n, i);
    snprintf(p, sizeof p, "%s/shm/%s", dir, n);
    struct stat st;
    return raw_stat(p, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(void)
{
    if (!redirected()) {
        skip("no split brain", "/dev/shm is usable: no reclaim");
        return finish();
    }
#ifdef __x86_64__
    int rounds = 200;
#else
    int rounds = 20; /* arm64 runs here under qemu-user, where a fork costs a hundred times more */
#endif
    if (getenv("SHMR_TEST_ROUNDS"))
        rounds = atoi(getenv("SHMR_TEST_ROUNDS"));
    snprintf(dir, sizeof dir, "/tmp/shmr-split-%d", (int)getpid());
    mkdir(dir, 0700);
    char shm[PATH_MAX + 8];
    snprintf(shm, sizeof shm, "%s/shm", dir);
    setenv("SHM_REDIRECT_DIR", shm, 1);
    setenv("SHM_REDIRECT_RECLAIM_AFTER", "0", 1);
    int cmd[OPENERS], out[OPENERS];
    pid_t op[OPENERS];
    for (int k = 0; k < OPENERS; k++) {
        int a[2], b[2];
        if (pipe(a) != 0 || pipe(b) != 0)
            return 1;
        op[k] = fork();
        if (op[k] == 0) {
            close(a[1]);
            close(b[0]);
            for (int o = 0; o < k; o++) {
                close(cmd[o]);
                close(out[o]);
            }
            opener(a[0], b[1]);
        }
        close(a[0]);
        close(b[1]);
        cmd[k] = a[1];
        out[k] = b[0];
    }
    int started[2];
    if (pipe(started) != 0)
        return 1;
    int splits = 0, orphans = 0, contested = 0;
    /* The rounds go on (up to five times as many) until one was contested: under
       qemu-user the race is rarer, and a run that never met it proves nothing. */
    int r;
    for (r = 0; r < rounds || (contested == 0 && r < 5 * rounds); r++) {
        pid_t d = fork();
        if (d == 0)
            dead_group();
        wait_status(d);
        unsigned long dead_inos[NAMES];
        for (int i = 0; i < NAMES; i++)
            dead_inos[i] = named(i);
        pid_t rec[RECLAIMERS];
        for (int k = 0; k < RECLAIMERS; k++) {
            rec[k] = fork();
            if (rec[k] == 0)
                reclaimer(started[1]);
            char s;
            if (k == 0 && read(started[0], &s, 1) != 1)
                return 1;
            if (k == 0)
                for (int o = 0; o < OPENERS; o++)
                    if (write(cmd[o], "g", 1) != 1)
                        return 1;
        }
        unsigned long inos[OPENERS][NAMES];
        for (int o = 0; o < OPENERS; o++)
            if (read_all(out[o], inos[o], sizeof inos[o]) != 0)
                return 1;
        for (int k = 0; k < RECLAIMERS; k++)
            wait_status(rec[k]);
        char s;
        for (int k = 1; k < RECLAIMERS; k++)
            if (read(started[0], &s, 1) != 1)
                return 1;
        for (int i = 0; i < NAMES; i++) {
            unsigned long now = named(i);
            splits += inos[0][i] != inos[1][i];
            orphans += inos[0][i] != now || inos[1][i] != now;
            contested += inos[0][i] != dead_inos[i];
        }
        char c;
        for (int o = 0; o < OPENERS; o++)
            if (write(cmd[o], "r", 1) != 1 || read(out[o], &c, 1) != 1)
                return 1;
        /* The next round's dead group makes every name afresh. */
        for (int i = 0; i < NAMES; i++) {
            char n[32], p[PATH_MAX + 40];
            name_of(n, sizeof n, i);
            snprintf(p, sizeof p, "%s/%s", shm, n);
            raw_unlink(p);
        }
    }
    rounds = r;
    printf("# %d rounds x %d names: %d opened after a reclaimer removed the dead group's file\n", rounds, NAMES,
           contested);
    check(splits == 0, "%d reclaimers x %d live O_CREAT openers x %d names x %d rounds: %d names with two files",
          RECLAIMERS, OPENERS, NAMES, rounds, splits);
    check(orphans == 0, "... and %d opens holding a file no name reaches", orphans);
    check(contested > 0, "... in rounds where reclaimers did remove files the openers were after");
    for (int o = 0; o < OPENERS; o++) {
        close(cmd[o]);
        wait_status(op[o]);
    }
    char rm[PATH_MAX + 16];
    snprintf(rm, sizeof rm, "rm -rf %s", dir);
    if (system(rm) != 0)
        printf("# could not remove %s\n", dir);
    return finish();
}
