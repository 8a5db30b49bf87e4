/* Reclaiming what dead process groups left in the redirect directory: what
   a killed group made and nobody uses is removed by a later group; what a
   live group may still use never is (a holder, an exited creator whose
   group lives on, a parallel group); a group of unreaped zombies is dead;
   a reclaimer killed at any point (and left a zombie) holds nothing past
   the next group's first use; the grace (SHM_REDIRECT_RECLAIM_AFTER) keeps
   a dead group's objects for a hand-off by name, and a creation reclaims
   once it has run out; the registry never follows a symlink and a record
   stays small; SHM_REDIRECT_RECLAIM=0 turns it off; without leases (a
   seccomp filter refusing F_SETLEASE) it keeps everything and says so; with a usable /dev/shm
   nothing changes.  run.sh also runs it with the redirect directory on a
   ramfs (SHMR_TEST_RAMFS=1): no inode generations there, same rule.

   Unless a case says otherwise there is no grace
   (SHM_REDIRECT_RECLAIM_AFTER=0): a dead group's unused objects go at the
   next new group's first use.  Each "group" is a helper (this binary run
   again) that makes itself a process group leader first, like Lambda's
   runtime. */
#include "common.h"

#include "seccomp_refuse.h"

#include <dirent.h>
#include <linux/fs.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

/* ---- helpers (run as separate processes) ---- */

static int create(const char *name)
{
    char slashed[NAME_MAX + 2];
    snprintf(slashed, sizeof slashed, "/%s", name);
    sem_t *s = sem_open(slashed, O_CREAT, 0600, 0);
    int fd = shm_open(name, O_CREAT | O_RDWR, 0600);
    if (s == SEM_FAILED || fd < 0 || ftruncate(fd, 4096) != 0) {
        fprintf(stderr, "create %s: %s\n", name, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

static void ready(const char *extra)
{
    printf("ready %s\n", extra);
    fflush(stdout);
}

/* Blocks until stdin is closed (or the group is killed). */
static void hold(void)
{
    char c;
    while (read(0, &c, 1) > 0)
        ;
}

/* argv: "--helper" MODE [NAME [N]] */
static int helper(int argc, char **argv)
{
    const char *mode = argv[2];
    const char *name = argc > 3 ? argv[3] : "";
    if (strcmp(mode, "member-exit") != 0)
        setpgid(0, 0);
    if (strcmp(mode, "touch-without-leases") == 0) {
        /* As on a file system without leases: F_SETLEASE fails with EINVAL. */
        if (refuse_syscall(SYS_fcntl, 1, ~0u, F_SETLEASE, EINVAL) != 0)
            return 3;
        mode = "touch";
    }
    if (strcmp(mode, "touch") == 0) {
        /* A first use that creates nothing: the reclaim runs here. */
        int fd = shm_open("shmr-test-reclaim-none", O_RDONLY, 0);
        return fd < 0 && errno == ENOENT ? 0 : 1;
    }
    if (strcmp(mode, "use") == 0) {
        /* A first use that must work after whatever the others left. */
        if (create(name) != 0)
            return 1;
        char p[NAME_MAX + 2];
        snprintf(p, sizeof p, "/%s", name);
        return sem_unlink(p) == 0 && shm_unlink(name) == 0 ? 0 : 1;
    }
    if (strcmp(mode, "hold") == 0) {
        /* The segment made twice in a row: what the reclaim finds recorded
           is the second. */
        int fd = -1;
        if (create(name) != 0 || shm_unlink(name) != 0 || (fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600)) < 0
            || ftruncate(fd, 4096) != 0)
            return 1;
        close(fd);
        ready("");
        hold();
        return 0;
    }
    if (strcmp(mode, "many") == 0) {
        int n = atoi(argv[4]);
        for (int i = 0; i < n; i++) {
            char one[NAME_MAX];
            snprintf(one, sizeof one, "%s-%d", name, i);
            if (create(one) != 0)
                return 1;
        }
        ready("");
        hold();
        return 0;
    }
    if (strcmp(mode, "leader") == 0) {
        /* A member of its group creates the objects and exits, as a worker
           handing a name to its parent; the parent has used the library (a
           pool's lock, say), so the group's record lives with it. */
        int none = shm_open("shmr-test-reclaim-none", O_RDONLY, 0);
        if (none >= 0 || errno != ENOENT)
            return 1;
        char *args[] = { "member-exit", (char *)name, NULL };
        pid_t c = spawn_helper(args, NULL, 1, -1);
        if (wait_status(c) != 0)
            return 1;
        ready("");
        hold();
        return 0;
    }
    if (strcmp(mode, "race") == 0) {
        /* At the byte on stdin: a first use, racing the others'. */
        char go;
        return read(0, &go, 1) == 1 && create(name) == 0 ? 0 : 1;
    }
    if (strcmp(mode, "same-pid") == 0) {
        /* Two members of the group in turn create objects and exit, the
           second with the first one's pid (set through ns_last_pid, root
           only): it carries on with the first one's file of entries. */
        int none = shm_open("shmr-test-reclaim-none", O_RDONLY, 0);
        if (none >= 0 || errno != ENOENT)
            return 1;
        char one[NAME_MAX];
        snprintf(one, sizeof one, "%s-a", name);
        pid_t first = fork();
        if (first == 0)
            _exit(create(one) == 0 ? 0 : 1);
        if (wait_status(first) != 0)
            return 1;
        snprintf(one, sizeof one, "%s-b", name);
        for (int tries = 0; tries < 20; tries++) {
            FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
            if (!f || fprintf(f, "%d", (int)first - 1) < 0 || fclose(f) != 0) {
                ready("no ns_last_pid");
                hold();
                return 0;
            }
            pid_t again = fork();
            if (again == 0)
                _exit(getpid() == first && create(one) == 0 ? 0 : 1);
            if (wait_status(again) == 0) {
                ready("same");
                hold();
                return 0;
            }
        }
        ready("the pid was taken by others");
        hold();
        return 0;
    }
    if (strcmp(mode, "churn") == 0) {
        /* Creates and removes N objects, and makes one name again each
           time (ext4 gives it the inode number it had): the group's
           record must stay small. */
        int n = atoi(argv[4]);
        char again[NAME_MAX];
        snprintf(again, sizeof again, "%s-again", name);
        for (int i = 0; i < n; i++) {
            char one[NAME_MAX];
            snprintf(one, sizeof one, "%s-%d", name, i);
            int fd = shm_open(one, O_CREAT | O_EXCL | O_RDWR, 0600);
            if (fd < 0 || close(fd) != 0 || shm_unlink(one) != 0)
                return 1;
            shm_unlink(again);
            if ((fd = shm_open(again, O_CREAT | O_EXCL | O_RDWR, 0600)) < 0 || close(fd) != 0)
                return 1;
        }
        return shm_unlink(again);
    }
    if (strcmp(mode, "serve") == 0) {
        /* A live runtime: "touch", "make NAME", "open NAME" (kept mapped),
           one reply line each. */
        char line[256];
        ready("");
        while (fgets(line, sizeof line, stdin)) {
            line[strcspn(line, "\n")] = '\0';
            char *arg = strchr(line, ' ');
            if (arg)
                *arg++ = '\0';
            int rc = -1;
            if (strcmp(line, "touch") == 0) {
                int fd = shm_open("shmr-test-reclaim-none", O_RDONLY, 0);
                rc = fd < 0 && errno == ENOENT ? 0 : -1;
            } else if (strcmp(line, "make") == 0 && arg) {
                rc = create(arg);
            } else if (strcmp(line, "open") == 0 && arg) {
                int fd = shm_open(arg, O_RDWR, 0);
                rc = fd >= 0 && mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) != MAP_FAILED ? 0 : -1;
            }
            printf("%s\n", rc == 0 ? "ok" : "error");
            fflush(stdout);
        }
        return 0;
    }
    if (strcmp(mode, "killed-making") == 0) {
        /* A first use, then a creation (argv[4]: "shm", "open", "mkdir")
           killed after its call made the name, before the library knew the
           file: at the inode generation's ioctl, the first of this
           process. */
        int none = shm_open("shmr-test-reclaim-none", O_RDONLY, 0);
        if (none >= 0 || errno != ENOENT)
            return 1;
        if (kill_at_syscall(SYS_ioctl, 1, ~0u, FS_IOC_GETVERSION) != 0)
            return 3;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "/dev/shm/%s", name);
        if (strcmp(argv[4], "shm") == 0)
            shm_open(name, O_CREAT | O_RDWR, 0600);
        else if (strcmp(argv[4], "mkdir") == 0)
            mkdir(path, 0700);
        else
            open(path, O_CREAT | O_RDWR, 0600);
        return 1;
    }
    if (strcmp(mode, "remade") == 0) {
        /* Names made again, or made other ways, by one process:
           sem_open(O_EXCL) of a name it made (EEXIST), a folder made, removed
           and made again (ext4 gives it the inode number back), a file
           renamed into place, a file its owner cannot read. */
        char p[PATH_MAX], q[PATH_MAX], sem[NAME_MAX + 2];
        snprintf(sem, sizeof sem, "/%s-sem", name);
        sem_t *s = sem_open(sem, O_CREAT | O_EXCL, 0600, 0);
        if (s == SEM_FAILED || sem_open(sem, O_CREAT | O_EXCL, 0600, 0) != SEM_FAILED || errno != EEXIST)
            return 1;
        struct stat one, two;
        snprintf(p, sizeof p, "/dev/shm/%s-d1", name);
        snprintf(q, sizeof q, "/dev/shm/%s-d2", name);
        if (mkdir(p, 0700) != 0 || stat(p, &one) != 0 || rmdir(p) != 0 || mkdir(q, 0700) != 0 || stat(q, &two) != 0)
            return 1;
        snprintf(p, sizeof p, "/dev/shm/%s-d2/f", name);
        int fd = open(p, O_CREAT | O_WRONLY, 0600);
        if (fd < 0 || close(fd) != 0)
            return 1;
        snprintf(p, sizeof p, "/dev/shm/%s-c.tmp", name);
        snprintf(q, sizeof q, "/dev/shm/%s-c", name);
        if ((fd = open(p, O_CREAT | O_WRONLY, 0600)) < 0 || write(fd, "data", 4) != 4 || close(fd) != 0
            || rename(p, q) != 0)
            return 1;
        snprintf(p, sizeof p, "/dev/shm/%s-w", name);
        if ((fd = open(p, O_CREAT | O_WRONLY, 0200)) < 0 || close(fd) != 0)
            return 1;
        ready(one.st_ino == two.st_ino ? "inode reused" : "");
        hold();
        return 0;
    }
    if (strcmp(mode, "member-exit") == 0)
        return create(name) == 0 ? 0 : 1;
    if (strcmp(mode, "zombie") == 0) {
        /* Creates, then leaves a child in the group that will be a zombie
           nobody reaps once the group is killed. */
        if (create(name) != 0)
            return 1;
        pid_t c = fork();
        if (c == 0) {
            hold();
            _exit(0);
        }
        char pid[24];
        snprintf(pid, sizeof pid, "%d", (int)c);
        ready(pid);
        hold();
        return 0;
    }
    return 2;
}

/* ---- the test process ---- */

struct group {
    pid_t pid;
    int in, out; /* its stdin (ours to close) and stdout */
    char line[64];
};

/* Starts a helper with ARGS and EXTRA environment, its stdin and stdout on
   pipes; waits for its "ready" line unless NOWAIT. */
static struct group start(char *const args[], const char *const env[], int nowait)
{
    struct group g = { -1, -1, -1, "" };
    g.pid = spawn_piped(args, env, &g.in, &g.out);
    if (g.pid > 0 && !nowait) {
        ssize_t n = read(g.out, g.line, sizeof g.line - 1);
        g.line[n > 0 ? n : 0] = '\0';
    }
    return g;
}

static struct group start1(const char *mode, const char *name)
{
    char *args[] = { (char *)mode, (char *)name, NULL };
    return start(args, NULL, 0);
}

/* Sends CMD to a "serve" helper; its reply line (static). */
static const char *ask_line(struct group *g, const char *cmd)
{
    dprintf(g->in, "%s\n", cmd);
    return read_reply(g->out);
}

static int started(const struct group *g)
{
    return strncmp(g->line, "ready", 5) == 0;
}

static void kill_group(struct group *g)
{
    kill(-g->pid, SIGKILL);
    wait_status(g->pid);
    close(g->in);
    close(g->out);
}

static char err[8192];
static pid_t last_touch;

/* Runs a helper in a new group to its end; its stderr (with ENV, e.g.
   debug) goes to err. */
static int run_helper(char *const args[], const char *const env[])
{
    char path[] = "/tmp/shmr-test-reclaim-XXXXXX";
    int fd = mkstemp(path);
    last_touch = spawn_helper(args, env, 1, fd);
    int rc = wait_status(last_touch);
    ssize_t n = pread(fd, err, sizeof err - 1, 0);
    err[n > 0 ? n : 0] = '\0';
    close(fd);
    unlink(path);
    return rc;
}

/* A new group's first use, which creates nothing. */
static int touch(const char *const env[])
{
    char *args[] = { "touch", NULL };
    return run_helper(args, env);
}

static const char *const debug_env[] = { "SHM_REDIRECT_DEBUG=1", NULL };

/* Both objects NAME exist (1), neither (0), or one of them (-1). */
static int present(const char *name)
{
    char p[PATH_MAX];
    object_file(p, sizeof p, "sem.", name);
    int s = raw_exists(p);
    object_file(p, sizeof p, "", name);
    int m = raw_exists(p);
    return s && m ? 1 : !s && !m ? 0 : -1;
}

static void remove_objects(const char *name)
{
    char p[PATH_MAX];
    object_file(p, sizeof p, "sem.", name);
    raw_unlink(p);
    object_file(p, sizeof p, "", name);
    raw_unlink(p);
}

static void registry_path(char *buf, size_t len, const char *leaf)
{
    snprintf(buf, len, "%s.reclaim/%s", object_dir(), leaf);
}

/* The registry's records of group PGID, live or retired. */
static int records_of(pid_t pgid)
{
    char reg[PATH_MAX];
    registry_path(reg, sizeof reg, "");
    DIR *d = opendir(reg);
    if (!d)
        return 0;
    int n = 0;
    char live[32], retired[32];
    snprintf(live, sizeof live, "g.%d", (int)pgid);
    snprintf(retired, sizeof retired, ".%d.", (int)pgid);
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, live) == 0 || (e->d_name[0] == 'd' && strstr(e->d_name, retired));
    closedir(d);
    return n;
}

static void killed_group(void)
{
    char name[64];
    uniq(name, sizeof name, "killed");
    struct group g = start1("hold", name);
    check(started(&g) && present(name) == 1, "a group created a semaphore and a shared memory object");
    check(records_of(g.pid) == 1, "its record is in the registry");
    kill_group(&g);
    const char *const off[] = { "SHM_REDIRECT_RECLAIM=0", NULL };
    check(touch(off) == 0 && present(name) == 1, "SHM_REDIRECT_RECLAIM=0: a new group takes nothing");
    check(touch(debug_env) == 0, "the next group's first use works");
    check(present(name) == 0, "killed group's objects: reclaimed by the next group's first use");
    check(strstr(err, "reclaim: removed ") && strstr(err, name) && strstr(err, "its process group is dead"),
          "SHM_REDIRECT_DEBUG=1 says what was reclaimed and why: %.*s", (int)strcspn(strstr(err, "removed") ? strstr(err, "removed") : err, "\n"),
          strstr(err, "removed") ? strstr(err, "removed") : err);
    check(records_of(g.pid) == 0, "... and its record is gone");
    char use[64];
    uniq(use, sizeof use, "use");
    char *uargs[] = { "use", use, NULL };
    check(run_helper(uargs, NULL) == 0, "a new group creates and removes objects");
}

/* A creator killed inside its creating call leaves the name behind; the
   library recorded it pending before the call, and the next group's first
   use takes what it made (still empty), never a file it found there
   already. */
static void killed_making(void)
{
    const char *hows[] = { "shm", "open", "mkdir", "open" };
    for (int i = 0; i < 4; i++) {
        char name[64], p[PATH_MAX];
        int found = i == 3; /* another's file, with data, opened with O_CREAT */
        uniq(name, sizeof name, found ? "found" : hows[i]);
        object_file(p, sizeof p, "", name);
        if (found) {
            int fd = open(p, O_CREAT | O_WRONLY, 0600);
            check(fd >= 0 && write(fd, "data", 4) == 4 && close(fd) == 0, "a file with data, of nobody's record");
        }
        char *args[] = { "killed-making", name, (char *)hows[i], NULL };
        int rc = run_helper(args, NULL);
        if (rc == 3) {
            skip("a creator killed inside its creation", "no seccomp filters here");
            return;
        }
        check(rc == 128 + SIGSYS && raw_exists(p), "%s: killed right after the call made %s", hows[i], name);
        check(touch(NULL) == 0 && raw_exists(p) == found,
              found ? "... kept by the next group's first use: not the killed creator's"
                    : "... taken by the next group's first use");
        if (found)
            raw_unlink(p);
    }
}

/* A pending entry whose name found a folder that another made and filled
   (its maker killed between mkdir's EEXIST and the entry's removal, too
   narrow a moment to hit on purpose): planted in a dead group's record
   beside one of an empty folder.  The kernel's rmdir tells the two apart. */
static void pending_folders(void)
{
    char full[64], empty[64], file[PATH_MAX + 8], dir[PATH_MAX], rec[PATH_MAX];
    uniq(full, sizeof full, "pfull");
    uniq(empty, sizeof empty, "pempty");
    object_file(dir, sizeof dir, "", full);
    snprintf(file, sizeof file, "%s/f", dir);
    int ok = mkdir(dir, 0700) == 0 && close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)) == 0;
    object_file(dir, sizeof dir, "", empty);
    ok = ok && mkdir(dir, 0700) == 0;
    registry_path(rec, sizeof rec, "d.0.999999999.1"); /* a pgid past any pid_max, due long ago */
    ok = ok && mkdir(rec, 0755) == 0;
    strcat(rec, "/1");
    char entries[256];
    int n = snprintf(entries, sizeof entries, "%020d-%010d %s%c%020d-%010d %s%c", 0, 0, full, 0, 0, 0, empty, 0);
    int fd = open(rec, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    ok = ok && fd >= 0 && write(fd, entries, (size_t)n) == n && close(fd) == 0;
    check(ok, "planted: a dead group's pending entries of a folder with a file in it and of an empty folder");
    check(touch(NULL) == 0 && raw_exists(file) && !raw_exists(dir),
          "the next group's first use keeps the filled folder (not the dead group's) and takes the empty one");
    check(records_of(999999999) == 0, "... and the dead group's record goes");
    raw_unlink(file);
    object_file(dir, sizeof dir, "", full);
    rmdir(dir);
}

/* What one process made again, or by a rename, or unreadable, is its
   group's like the rest. */
static void remade(void)
{
    char name[64], p[PATH_MAX];
    uniq(name, sizeof name, "remade");
    struct group g = start1("remade", name);
    check(started(&g), "a group made a semaphore, then failed to make it again with O_EXCL (EEXIST); made a folder, "
                       "removed it, made another (%s), with a file; renamed a file into place; made a file of mode 0200",
          strstr(g.line, "inode reused") ? "with the first one's inode number" : "another inode number");
    kill_group(&g);
    check(touch(NULL) == 0, "the group killed, the next group's first use");
    const char *leaves[] = { "sem.%s-sem", "%s-d2", "%s-c", "%s-w" };
    for (int i = 0; i < 4; i++) {
        char leaf[NAME_MAX];
        snprintf(leaf, sizeof leaf, leaves[i], name);
        object_file(p, sizeof p, "", leaf);
        check(!raw_exists(p), "... takes %s", leaf);
    }
}

/* Without leases nothing can be known unused: the reclaim keeps
   everything, and says so once. */
static void without_leases(void)
{
    char name[64];
    uniq(name, sizeof name, "noleases");
    struct group g = start1("hold", name);
    check(started(&g) && present(name) == 1, "no leases: a group created a semaphore and a shared memory object");
    kill_group(&g);
    char *args[] = { "touch-without-leases", NULL };
    int rc = run_helper(args, NULL);
    if (rc == 3) {
        skip("no leases: the reclaim keeps everything", "no seccomp filters here");
    } else {
        check(rc == 0 && present(name) == 1, "no leases (F_SETLEASE fails with EINVAL): a new group keeps them");
        check(strstr(err, "no file leases on the redirect directory") && strstr(err, "nothing is reclaimed"),
              "... and says why on stderr: %.*s", (int)strcspn(err, "\n"), err);
    }
    check(touch(NULL) == 0 && present(name) == 0, "with leases, the next new group takes them");
}

/* A group that lives on keeps its objects; once killed, they go. */
static void lives_on(const char *mode, const char *what)
{
    char name[64];
    uniq(name, sizeof name, mode);
    struct group g = start1(mode, name);
    check(started(&g) && present(name) == 1, "%s: objects created", what);
    check(touch(NULL) == 0 && present(name) == 1, "%s: a new group's first use takes nothing", what);
    kill_group(&g);
    touch(NULL);
    check(present(name) == 0, "%s: reclaimed once it is killed", what);
}

/* Groups whose first uses race on a fresh directory each record what they
   make (one that found the registry being made by another once recorded
   nothing, and its objects stayed for good). */
static void racing_first_uses(void)
{
    enum { RACERS = 6, ROUNDS = 10 };
    char dir[PATH_MAX], shm[PATH_MAX + 8], cmd[PATH_MAX + 16], name[64], one[RACERS][80];
    int left = 0, failed = 0;
    for (int round = 0; round < ROUNDS; round++) {
        snprintf(dir, sizeof dir, "/tmp/shmr-test-race-%d-%d", (int)getpid(), round);
        snprintf(shm, sizeof shm, "%s/shm", dir);
        mkdir(dir, 0700);
        setenv("SHM_REDIRECT_DIR", shm, 1);
        uniq(name, sizeof name, "race");
        struct group g[RACERS];
        for (int i = 0; i < RACERS; i++) {
            snprintf(one[i], sizeof one[i], "%s-%d", name, i);
            char *args[] = { "race", one[i], NULL };
            g[i] = start(args, NULL, 1);
        }
        for (int i = 0; i < RACERS; i++)
            failed += write(g[i].in, "", 1) != 1;
        for (int i = 0; i < RACERS; i++) {
            failed += wait_status(g[i].pid) != 0;
            close(g[i].in);
            close(g[i].out);
        }
        touch(NULL);
        for (int i = 0; i < RACERS; i++)
            left += present(one[i]) != 0;
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
            printf("# could not remove %s\n", dir);
    }
    unsetenv("SHM_REDIRECT_DIR");
    check(failed == 0 && left == 0, "%d rounds of %d groups whose first uses race on a fresh directory: each "
          "records what it makes, and the next group takes it all (%d objects left)", ROUNDS, RACERS, left);
}

/* A member of a live group with the pid of one that died carries on with
   its file of entries: what both made goes once the group is killed. */
static void same_pid(void)
{
    char name[64], a[80], b[80];
    uniq(name, sizeof name, "samepid");
    snprintf(a, sizeof a, "%s-a", name);
    snprintf(b, sizeof b, "%s-b", name);
    struct group g = start1("same-pid", name);
    if (strncmp(g.line, "ready same", 10) != 0) {
        skip("a member with a dead member's pid carries on with its record", g.line);
        kill_group(&g);
        touch(NULL);
        return;
    }
    check(present(a) == 1 && present(b) == 1, "two members of a group, the second with the first one's pid, "
          "created objects and exited");
    kill_group(&g);
    touch(NULL);
    check(present(a) == 0 && present(b) == 0, "... both members' objects are reclaimed once the group is killed "
          "(first %d, second %d left)", present(a), present(b));
}

static void parallel_groups(void)
{
    char a[64], b[64];
    uniq(a, sizeof a, "par-a");
    uniq(b, sizeof b, "par-b");
    struct group ga = start1("hold", a), gb = start1("hold", b);
    check(started(&ga) && started(&gb), "two groups in parallel");
    kill_group(&ga);
    touch(NULL);
    check(present(a) == 0, "parallel groups: the killed one's objects are reclaimed");
    check(present(b) == 1, "parallel groups: the running one's objects are kept");
    kill_group(&gb);
    touch(NULL);
    check(present(b) == 0, "parallel groups: the second, once killed");
}

/* /proc/PID/stat's state letter, or 0. */
static char proc_state(pid_t pid)
{
    char p[64], buf[512];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    int fd = open(p, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    char *e = strrchr(buf, ')');
    return e && e[1] ? e[2] : 0;
}

/* Lambda's init and the Runtime Interface Emulator run as PID 1 and reap
   only the runtime: its killed workers stay zombies.  This process becomes a
   subreaper that does the same. */
static void zombie_group(void)
{
    char name[64];
    uniq(name, sizeof name, "zombie");
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    struct group g = start1("zombie", name);
    pid_t child = (pid_t)atoi(g.line + 6);
    check(started(&g) && child > 0 && present(name) == 1, "a group with a second process created objects");
    kill(-g.pid, SIGKILL);
    wait_status(g.pid);
    char st = 0;
    for (int i = 0; i < 500 && (st = proc_state(child)) != 'Z'; i++)
        usleep(10000);
    check(st == 'Z' && kill(-g.pid, 0) == 0, "killed; its second process is an unreaped zombie");
    check(touch(NULL) == 0 && present(name) == 0, "a group of zombies only: its objects are reclaimed");
    wait_status(child);
    close(g.in);
    close(g.out);
    prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static int count_left(const char *prefix, int n, int drop)
{
    int left = 0;
    for (int i = 0; i < n; i++) {
        char one[NAME_MAX];
        snprintf(one, sizeof one, "%s-%d", prefix, i);
        left += present(one) != 0;
        if (drop)
            remove_objects(one);
    }
    return left;
}

#define DEAD_OBJECTS 300
#define LIVE_OBJECTS 30

/* Reclaimers SIGKILLed at growing delays, each left an unreaped zombie,
   until some stop midway; then one that finishes: every object of the dead
   group goes, none of the live group's, no record of the dead group is
   left, and the next process creates and removes objects as usual. */
static void crash_midway(void)
{
    char dead[64], live[64], use[64], n_dead[16], n_live[16];
    uniq(dead, sizeof dead, "crash-dead");
    uniq(live, sizeof live, "crash-live");
    uniq(use, sizeof use, "crash-use");
    snprintf(n_dead, sizeof n_dead, "%d", DEAD_OBJECTS);
    snprintf(n_live, sizeof n_live, "%d", LIVE_OBJECTS);
    char *dargs[] = { "many", dead, n_dead, NULL }, *largs[] = { "many", live, n_live, NULL };
    struct group d = start(dargs, NULL, 0), l = start(largs, NULL, 0);
    check(started(&d) && started(&l), "a group with %d objects (to be killed) and one with %d (running)", DEAD_OBJECTS,
          LIVE_OBJECTS);
    kill_group(&d);
    char *targs[] = { "touch", NULL };
    int left = DEAD_OBJECTS, midway = 0, zombies = 0;
    pid_t killed[64];
    for (double delay_us = 300; left > 0 && midway < 3 && zombies < 64 && delay_us < 200000; delay_us *= 1.25) {
        pid_t r = spawn_helper(targs, NULL, 1, -1);
        usleep((useconds_t)delay_us);
        kill(r, SIGKILL);
        /* Exited (an exiting process still holds its locks), not reaped: a zombie until the end. */
        siginfo_t si;
        waitid(P_PID, (id_t)r, &si, WEXITED | WNOWAIT);
        killed[zombies++] = r;
        int now = count_left(dead, DEAD_OBJECTS, 0);
        if (now > 0 && now < left)
            midway++;
        left = now;
    }
    printf("# reclaimers killed midway: %d (left zombies); %d of the dead group's %d objects left\n", midway, left,
           DEAD_OBJECTS);
    char *uargs[] = { "use", use, NULL };
    check(wait_status(spawn_helper(uargs, NULL, 1, -1)) == 0, "after them a new process creates and removes objects");
    touch(NULL);
    int dead_left = count_left(dead, DEAD_OBJECTS, 1);
    int live_kept = LIVE_OBJECTS - count_left(live, LIVE_OBJECTS, 0);
    check(dead_left == 0, "the next group's first use takes all the dead group's objects (%d left), its killed "
          "reclaimers still zombies", dead_left);
    check(live_kept == 0, "and none of the running group's (%d of %d taken)", live_kept, LIVE_OBJECTS);
    check(records_of(d.pid) == 0, "the dead group's record is gone");
    for (int i = 0; i < zombies; i++)
        wait_status(killed[i]);
    kill_group(&l);
    touch(NULL);
    check(count_left(live, LIVE_OBJECTS, 1) == 0, "the second group's, once killed");
}

/* The grace: a dead group's objects stay SECONDS for a hand-off by name;
   a later group's open keeps what it maps; once the grace has run out, a
   creation in a live process (which saw the group dead) reclaims. */
static void grace(void)
{
    setenv("SHM_REDIRECT_RECLAIM_AFTER", "2", 1);
    char handed[64], other[64];
    uniq(handed, sizeof handed, "handed");
    uniq(other, sizeof other, "other");
    char *sargs[] = { "serve", NULL };
    struct group live = start(sargs, NULL, 0);
    struct group p = start1("hold", handed);
    check(started(&live) && started(&p), "grace: producer P made objects; a live runtime L runs");
    kill_group(&p);
    check(touch(NULL) == 0 && present(handed) == 1, "grace: P killed; a new group's first use keeps them (grace 2 s)");
    check(strcmp(ask_line(&live, "touch"), "ok") == 0, "grace: L is not new: nothing happens");
    struct group c = start(sargs, NULL, 0);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "open %s", handed);
    check(strcmp(ask_line(&c, cmd), "ok") == 0, "grace: consumer C (a new group) opens P's segment by name and maps it");
    struct group q = start1("hold", other);
    kill_group(&q);
    check(touch(NULL) == 0 && present(other) == 1, "grace: a second producer Q is killed; its objects wait too");
    sleep(3);
    snprintf(cmd, sizeof cmd, "make %s-new", other);
    check(strcmp(ask_line(&c, cmd), "ok") == 0 && present(other) == 0,
          "grace: 3 s later, C's next creation reclaims Q's objects");
    char p_sem[PATH_MAX];
    object_file(p_sem, sizeof p_sem, "sem.", handed);
    check(present(handed) == -1 && !raw_exists(p_sem), "grace: ... and P's semaphore, but not the segment C maps");
    setenv("SHM_REDIRECT_RECLAIM_AFTER", "0", 1);
    kill_group(&c);
    touch(NULL);
    check(present(handed) == 0, "grace: once C is gone, the next new group takes the segment");
    char made[80];
    snprintf(made, sizeof made, "%s-new", other);
    touch(NULL);
    check(present(made) == 0, "grace: C's own objects went with it (no grace now)");
    kill_group(&live);
}

/* Sixty live groups that opened (and map) one name a dead group made:
   kept while any of them maps it, however many there are. */
static void sixty_holders(void)
{
    enum { HOLDERS = 60 };
    char name[64], cmd[96];
    uniq(name, sizeof name, "sixty");
    struct group maker = start1("hold", name);
    char *sargs[] = { "serve", NULL };
    struct group h[HOLDERS];
    int opened = 0;
    snprintf(cmd, sizeof cmd, "open %s", name);
    for (int i = 0; i < HOLDERS; i++) {
        h[i] = start(sargs, NULL, 0);
        opened += strcmp(ask_line(&h[i], cmd), "ok") == 0;
    }
    kill_group(&maker);
    check(opened == HOLDERS && touch(NULL) == 0 && present(name) != 0,
          "%d live groups map a segment whose maker was killed: a new group's first use keeps it", opened);
    for (int i = 0; i < HOLDERS - 1; i++)
        kill_group(&h[i]);
    char seg[PATH_MAX];
    object_file(seg, sizeof seg, "", name);
    check(touch(NULL) == 0 && raw_exists(seg), "... and still with only the last of them left");
    kill_group(&h[HOLDERS - 1]);
    touch(NULL);
    check(present(name) == 0, "... and goes once the last is gone");
}

/* The registry's entries are reached with O_NOFOLLOW from a directory
   checked to be the user's: a planted symlink is never followed. */
static void registry_symlinks(void)
{
    char dir[PATH_MAX], shm[PATH_MAX + 8], reg[PATH_MAX + 16], target[PATH_MAX + 16], name[64];
    snprintf(dir, sizeof dir, "/tmp/shmr-test-reg-%d", (int)getpid());
    snprintf(shm, sizeof shm, "%s/shm", dir);
    snprintf(reg, sizeof reg, "%s/shm.reclaim", dir);
    snprintf(target, sizeof target, "%s/elsewhere", dir);
    mkdir(dir, 0700);
    mkdir(target, 0700);
    int planted = symlink(target, reg) == 0;
    setenv("SHM_REDIRECT_DIR", shm, 1);
    uniq(name, sizeof name, "reg");
    char *uargs[] = { "use", name, NULL };
    int rc = run_helper(uargs, NULL);
    DIR *d = opendir(target);
    int entries = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        entries += e->d_name[0] != '.';
    if (d)
        closedir(d);
    check(planted && rc == 0 && entries == 0 && strstr(err, "is not a directory of this user's"),
          "registry: a symlink planted as the registry is not followed (nothing made in its target), said, and "
          "objects still work: %.*s", (int)strcspn(err, "\n"), err);
    unlink(reg);
    /* A group's record planted as a symlink to a file of the user's. */
    char victim[PATH_MAX + 16], leaf[PATH_MAX + 32];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    int fd = open(victim, O_CREAT | O_WRONLY, 0600);
    if (fd >= 0)
        close(fd);
    mkdir(reg, 01777);
    struct group g = start1("hold", name); /* its own group: g.<its pid> */
    kill_group(&g);
    pid_t next = fork(); /* a number to predict: the next helper's pid is close */
    if (next == 0)
        _exit(0);
    wait_status(next);
    for (int i = 1; i < 50; i++) {
        snprintf(leaf, sizeof leaf, "%s/g.%d", reg, (int)next + i);
        if (symlink(victim, leaf) != 0)
            break;
    }
    rc = run_helper(uargs, NULL);
    struct stat st;
    check(rc == 0 && stat(victim, &st) == 0 && st.st_size == 0,
          "registry: records planted as symlinks are not followed (the target stays empty), objects still work");
    touch(NULL);
    check(present(name) == 0, "registry: ... and the reclaim still takes a dead group's objects");
    unsetenv("SHM_REDIRECT_DIR");
    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
}

/* A group that creates and removes 20,000 objects, and makes one name
   again as often: its record stays small. */
static void record_bounded(void)
{
    char name[64], n[16] = "20000";
    uniq(name, sizeof name, "churn");
    char *args[] = { "churn", name, n, NULL };
    pid_t pid = spawn_helper(args, NULL, 1, -1);
    /* Its file of entries, read while it runs: it goes with the group. */
    char leaf[48], path[PATH_MAX];
    snprintf(leaf, sizeof leaf, "g.%d/%d", (int)pid, (int)pid);
    registry_path(path, sizeof path, leaf);
    off_t largest = 0;
    int rc;
    for (;;) {
        struct stat st;
        if (raw_stat(path, &st) == 0 && st.st_size > largest)
            largest = st.st_size;
        if (waitpid(pid, &rc, WNOHANG) == pid)
            break;
        usleep(2000);
    }
    check(WIFEXITED(rc) && WEXITSTATUS(rc) == 0 && largest > 0 && largest <= 160 * 1024,
          "a group that creates and removes 20,000 objects and makes one name again as often keeps a record of "
          "at most 160 KiB (largest seen: %ld bytes)", (long)largest);
}

/* With a usable /dev/shm the library stays out of the way: no records, no
   registry, a killed group's objects stay as glibc leaves them. */
static void native(void)
{
    char name[64], own[PATH_MAX], registry[PATH_MAX + 16];
    uniq(name, sizeof name, "native");
    /* A redirect directory of its own: were the library to use it, the
       registry beside it would appear; whatever else /tmp holds is not
       this test's. */
    snprintf(own, sizeof own, "/tmp/%s/shm", name);
    snprintf(registry, sizeof registry, "%s.reclaim", own);
    setenv("SHM_REDIRECT_DIR", own, 1);
    struct group g = start1("hold", name);
    check(started(&g) && present(name) == 1, "native: a group created objects in /dev/shm");
    kill_group(&g);
    touch(NULL);
    check(present(name) == 1, "native: a killed group's objects stay, as with glibc alone");
    check(!raw_exists("/dev/shm.reclaim") && !raw_exists(registry), "native: no registry is made");
    unsetenv("SHM_REDIRECT_DIR");
    remove_objects(name);
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--helper") == 0)
        return helper(argc, argv);
    if (!redirected()) {
        native();
        return finish();
    }
    setenv("SHM_REDIRECT_RECLAIM_AFTER", "0", 1);
    killed_group();
    lives_on("hold", "a running group");
    lives_on("leader", "a group whose creator exited, its leader having used the library before");
    same_pid();
    racing_first_uses();
    parallel_groups();
    zombie_group();
    crash_midway();
    grace();
    sixty_holders();
    registry_symlinks();
    record_bounded();
    without_leases();
    killed_making();
    pending_folders();
    remade();
    return finish();
}
