/* Reclaiming the objects of dead process groups from the redirect
   directory: what a killed group leaves is removed by the next group's first
   use; what a live group may still use never is (a holder, an exited creator
   whose group lives on, a group living on in an exec'd program that never
   uses shared memory, a parallel group); a group of unreaped zombies counts
   as dead; a reclaimer killed midway leaves nothing that breaks the next;
   SHM_REDIRECT_RECLAIM=0 turns it off; with a usable /dev/shm nothing
   changes.  With SHMR_TEST_NO_XATTR=1 (run.sh mounts a ramfs, which has no
   user extended attributes, on the redirect directory) nothing is tagged,
   nothing is reclaimed and everything works.

   Each "group" is a helper (this binary run again) that makes itself a
   process group leader first, like Lambda's runtime. */
#include "common.h"

#include <dirent.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/xattr.h>
#include <time.h>

#define XATTR "user.shm_redirect.owner"

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
        if (create(name) != 0)
            return 1;
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
    if (strcmp(mode, "exec-cat") == 0) {
        /* The group lives on in a program that never uses shared memory. */
        if (create(name) != 0)
            return 1;
        ready("");
        /* Under qemu-user /bin/cat is the host's: the arm64 library would
           only be refused with a warning. */
        if (getenv("SHMR_TEST_QEMU"))
            unsetenv("LD_PRELOAD");
        execl("/bin/cat", "cat", (char *)NULL);
        return 127;
    }
    if (strcmp(mode, "leader") == 0) {
        /* Never uses shared memory itself: a member of its group creates
           the objects and exits, as a worker handing a name to its parent. */
        char *args[] = { "member-exit", (char *)name, NULL };
        pid_t c = spawn_helper(args, NULL, 1, -1);
        if (wait_status(c) != 0)
            return 1;
        ready("");
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

static int no_xattr;

/* Where reclaiming applies, what a killed group left is gone after the next
   group's first use; on a file system without user xattrs it stays. */
static void check_reclaimed(const char *name, const char *what)
{
    if (no_xattr) {
        check(present(name) == 1, "%s: kept (no user xattrs, so untagged)", what);
        remove_objects(name);
    } else {
        check(present(name) == 0, "%s: reclaimed by the next group's first use", what);
    }
}

static void killed_group(void)
{
    char name[64];
    uniq(name, sizeof name, "killed");
    struct group g = start1("hold", name);
    check(started(&g) && present(name) == 1, "a group created a semaphore and a shared memory object");
    kill_group(&g);
    const char *const off[] = { "SHM_REDIRECT_RECLAIM=0", NULL };
    check(touch(off) == 0 && present(name) == 1, "SHM_REDIRECT_RECLAIM=0: a new group takes nothing");
    check(touch(debug_env) == 0, "the next group's first use works");
    check_reclaimed(name, "killed group's objects");
    if (!no_xattr)
        check(strstr(err, "reclaim: removed ") && strstr(err, name) && strstr(err, "no owner group has a process left"),
              "SHM_REDIRECT_DEBUG=1 says what was reclaimed and why: %.*s", (int)strcspn(err, "\n"), err);
    char use[64];
    uniq(use, sizeof use, "use");
    char *uargs[] = { "use", use, NULL };
    char said[PATH_MAX];
    snprintf(said, sizeof said, "%s.reclaim/said.no-xattr", object_dir());
    raw_unlink(said); /* said once for the directory: this run's own first time */
    check(run_helper(uargs, NULL) == 0, "a new group creates and removes objects");
    if (no_xattr) {
        check(strstr(err, "no user extended attributes") != NULL,
              "... and says, without SHM_REDIRECT_DEBUG, that nothing is tagged: %.*s", (int)strcspn(err, "\n"), err);
        check(run_helper(uargs, NULL) == 0 && strstr(err, "no user extended attributes") == NULL,
              "... once for the directory: the next group says nothing");
    }
}

/* A group that lives on (in whatever form) keeps its objects; once killed,
   they go. */
static void lives_on(const char *mode, const char *what)
{
    char name[64];
    uniq(name, sizeof name, mode);
    struct group g = start1(mode, name);
    check(started(&g) && present(name) == 1, "%s: objects created", what);
    check(touch(NULL) == 0 && present(name) == 1, "%s: a new group's first use takes nothing", what);
    kill_group(&g);
    touch(NULL);
    check_reclaimed(name, what);
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
    check_reclaimed(a, "parallel groups: the killed one's objects");
    check(present(b) == 1, "parallel groups: the running one's objects are kept");
    kill_group(&gb);
    touch(NULL);
    check_reclaimed(b, "parallel groups: the second, once killed");
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
    check(st == 'Z' && kill(-g.pid, 0) == 0, "killed; its second process is an unreaped zombie, so kill(-pgid, 0) succeeds");
    check(touch(debug_env) == 0, "the next group's first use works");
    check_reclaimed(name, "a group of zombies only");
    if (!no_xattr)
        check(strstr(err, "reclaim: removed ") && strstr(err, name), "... said as: %.*s", (int)strcspn(err, "\n"), err);
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

/* Entries of dead groups in the registry ("<ns>.<pgid>" claims and
   "o.<ns>.<pgid>" owners), but the last touch()'s own claim (it claims
   its group, then exits). */
static int dead_claims(void)
{
    char reg[PATH_MAX];
    snprintf(reg, sizeof reg, "%s.reclaim", object_dir());
    DIR *d = opendir(reg);
    if (!d)
        return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        const char *s = e->d_name[0] == 'o' && e->d_name[1] == '.' ? e->d_name + 2 : e->d_name;
        unsigned long long ns;
        int pgid, end = 0;
        if (sscanf(s, "%llu.%d%n", &ns, &pgid, &end) == 2 && s[end] == '\0' && pgid > 1
            && !(pgid == last_touch && s == e->d_name) && kill(-pgid, 0) != 0)
            n++;
    }
    closedir(d);
    return n;
}

#define DEAD_OBJECTS 300
#define LIVE_OBJECTS 30

/* Reclaimers killed at growing delays until some stop midway, then one that
   finishes: all of the dead group's objects go, none of the live group's,
   the dead groups' claims are forgotten, and the next process creates and
   removes objects as usual.  Then the state such a crash leaves, made by
   hand: half the objects gone, the claims of the dead group and of the
   crashed claimer left. */
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
    int left = DEAD_OBJECTS, midway = 0;
    for (double delay_us = 300; left > 0 && midway < 3 && delay_us < 200000; delay_us *= 1.25) {
        pid_t r = spawn_helper(targs, NULL, 1, -1);
        usleep((useconds_t)delay_us);
        kill(r, SIGKILL);
        wait_status(r);
        int now = count_left(dead, DEAD_OBJECTS, 0);
        if (now > 0 && now < left)
            midway++;
        left = now;
    }
    printf("# reclaimers killed midway: %d; %d of the dead group's %d objects left\n", midway, left, DEAD_OBJECTS);
    char *uargs[] = { "use", use, NULL };
    check(wait_status(spawn_helper(uargs, NULL, 1, -1)) == 0, "after them a new process creates and removes objects");
    touch(NULL);
    int dead_left = count_left(dead, DEAD_OBJECTS, no_xattr);
    int live_kept = LIVE_OBJECTS - count_left(live, LIVE_OBJECTS, 0);
    check(no_xattr ? dead_left == DEAD_OBJECTS : dead_left == 0,
          "a reclaimer that finishes takes all the dead group's objects (%d left)", dead_left);
    check(live_kept == 0, "and none of the running group's (%d of %d taken)", live_kept, LIVE_OBJECTS);
    check(dead_claims() == 0, "the dead groups' claims are forgotten");

    /* The leftovers of a claimer killed midway, made by hand. */
    d = start(dargs, NULL, 0);
    kill_group(&d);
    for (int i = 0; i < DEAD_OBJECTS; i += 2) {
        char one[NAME_MAX];
        snprintf(one, sizeof one, "%s-%d", dead, i);
        remove_objects(one);
    }
    char claim[PATH_MAX];
    struct stat ns;
    stat("/proc/self/ns/pid", &ns);
    snprintf(claim, sizeof claim, "%s.reclaim/%llu.%d", object_dir(), (unsigned long long)ns.st_ino, (int)d.pid);
    int had_claim = raw_exists(claim);
    /* A claimer killed right after claiming leaves only its claim. */
    pid_t crashed = fork();
    if (crashed == 0)
        _exit(0);
    wait_status(crashed);
    snprintf(claim, sizeof claim, "%s.reclaim/%llu.%d", object_dir(), (unsigned long long)ns.st_ino, (int)crashed);
    int fd = open(claim, O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd >= 0)
        close(fd);
    check(had_claim && fd >= 0 && dead_claims() >= 2,
          "leftovers: half the objects, the dead group's claim, a dead claimer's claim");
    check(wait_status(spawn_helper(uargs, NULL, 1, -1)) == 0, "leftovers: the next process creates and removes objects");
    touch(NULL);
    dead_left = count_left(dead, DEAD_OBJECTS, no_xattr);
    check(no_xattr ? dead_left == DEAD_OBJECTS / 2 : dead_left == 0, "leftovers: the next claimer finishes the job (%d left)",
          dead_left);
    check(dead_claims() == 0, "leftovers: the dead claims are forgotten");
    live_kept = LIVE_OBJECTS - count_left(live, LIVE_OBJECTS, 0);
    check(live_kept == 0, "leftovers: the running group keeps its objects");
    kill_group(&l);
    touch(NULL);
    count_left(live, LIVE_OBJECTS, no_xattr);
}

/* A file made by hand in the object directory, tagged with the owner
   attribute NAME = VALUE (none when NAME is NULL). */
static int forged(const char *file, const char *name, const char *value)
{
    char p[PATH_MAX];
    object_file(p, sizeof p, "", file);
    int fd = open(p, O_CREAT | O_EXCL | O_WRONLY, 0600);
    if (fd < 0)
        return -1;
    int rc = name && !no_xattr ? fsetxattr(fd, name, value, strlen(value), 0) : 0;
    close(fd);
    return rc;
}

static int forged_left(const char *file)
{
    char p[PATH_MAX];
    object_file(p, sizeof p, "", file);
    int there = raw_exists(p);
    raw_unlink(p);
    return there;
}

/* What the reclaim judges by the tags alone (no process holds any of these
   files): untagged, another PID namespace's and pinned files are kept; a
   dead group's, another boot's and an old single-owner tag of a dead group
   are reclaimed. */
static void foreign_tags(void)
{
    char plain[64], other[64], ours[64], boot2[64], legacy[64], pinned[64];
    uniq(plain, sizeof plain, "untagged");
    uniq(other, sizeof other, "other-ns");
    uniq(ours, sizeof ours, "forged");
    uniq(boot2, sizeof boot2, "other-boot");
    uniq(legacy, sizeof legacy, "legacy");
    uniq(pinned, sizeof pinned, "pinned");
    /* A dead group: a child's number after it is reaped. */
    pid_t gone = fork();
    if (gone == 0)
        _exit(0);
    wait_status(gone);
    char boot[64] = "", hex[33];
    int bf = open("/proc/sys/kernel/random/boot_id", O_RDONLY);
    ssize_t bn = bf >= 0 ? read(bf, boot, sizeof boot - 1) : -1;
    if (bf >= 0)
        close(bf);
    int h = 0;
    for (ssize_t i = 0; i < bn && h < 32; i++)
        if (boot[i] != '-' && boot[i] != '\n')
            hex[h++] = boot[i];
    hex[h] = '\0';
    char other_boot[33];
    memcpy(other_boot, hex, 33);
    other_boot[0] = other_boot[0] == 'a' ? 'b' : 'a';
    struct stat st;
    stat("/proc/self/ns/pid", &st);
    unsigned long long ns = (unsigned long long)st.st_ino;
    char dead_owner[96], other_owner[96], alive_owner[96], legacy_tag[128];
    snprintf(dead_owner, sizeof dead_owner, XATTR ".%llu.%d", ns, (int)gone);
    snprintf(other_owner, sizeof other_owner, XATTR ".%llu.%d", ns + 1, (int)gone);
    /* Another boot's namespace, whatever its number: the value says it is
       of another boot, so all its processes are gone. */
    snprintf(alive_owner, sizeof alive_owner, XATTR ".%llu.%d", ns + 2, (int)getpgid(0));
    snprintf(legacy_tag, sizeof legacy_tag, "%s:%llu:%d", hex, ns, (int)gone);
    int made = forged(plain, NULL, NULL) == 0 && forged(other, other_owner, hex) == 0
        && forged(ours, dead_owner, hex) == 0 && forged(boot2, alive_owner, other_boot) == 0
        && forged(legacy, XATTR, legacy_tag) == 0 && forged(pinned, dead_owner, hex) == 0;
    if (made && !no_xattr) {
        char p[PATH_MAX];
        object_file(p, sizeof p, "", pinned);
        made = setxattr(p, "user.shm_redirect.pinned", "1", 1, 0) == 0;
    }
    /* What a dead group that tagged leaves in the registry: without it no
       reclaim looks at the directory. */
    char reg[PATH_MAX];
    snprintf(reg, sizeof reg, "%s.reclaim/o.%llu.%d", object_dir(), ns, (int)gone);
    int fd = open(reg, O_CREAT | O_WRONLY, 0644);
    if (fd >= 0)
        close(fd);
    snprintf(reg, sizeof reg, "%s.reclaim/said.ns.%llu", object_dir(), ns + 1);
    raw_unlink(reg);
    check(made && fd >= 0,
          "files tagged by hand: untagged, another PID namespace's, a dead group's, another boot's, an old "
          "single-owner tag, a pinned one; the dead group registered");
    touch(NULL);
    check(forged_left(plain), "the untagged file is kept");
    check(forged_left(other), "the other namespace's is kept");
    if (!no_xattr)
        check(strstr(err, "PID namespace") != NULL, "... and that is said without SHM_REDIRECT_DEBUG: %.*s",
              (int)strcspn(err, "\n"), err);
    check(forged_left(pinned), "the pinned one is kept");
    const char *fate = no_xattr ? "kept (no xattrs)" : "reclaimed";
    check(forged_left(ours) == no_xattr, "the dead group's is %s", fate);
    check(forged_left(boot2) == no_xattr, "another boot's is %s, its processes ended with that boot", fate);
    check(forged_left(legacy) == no_xattr, "an old single-owner tag of a dead group is %s", fate);
}

/* With a usable /dev/shm the library stays out of the way: no tags, no
   registry, a killed group's objects stay as glibc leaves them. */
static void native(void)
{
    char name[64], p[PATH_MAX], own[PATH_MAX], registry[PATH_MAX + 16];
    uniq(name, sizeof name, "native");
    /* A redirect directory of its own: were the library to use it, the
       registry beside it would appear; whatever else /tmp holds is not
       this test's. */
    snprintf(own, sizeof own, "/tmp/%s/shm", name);
    snprintf(registry, sizeof registry, "%s.reclaim", own);
    setenv("SHM_REDIRECT_DIR", own, 1);
    struct group g = start1("hold", name);
    check(started(&g) && present(name) == 1, "native: a group created objects in /dev/shm");
    object_file(p, sizeof p, "", name);
    char v[128];
    errno = 0;
    int shm_untagged = getxattr(p, XATTR, v, sizeof v) < 0 && (errno == ENODATA || errno == EOPNOTSUPP);
    object_file(p, sizeof p, "sem.", name);
    errno = 0;
    int sem_untagged = getxattr(p, XATTR, v, sizeof v) < 0 && (errno == ENODATA || errno == EOPNOTSUPP);
    check(shm_untagged && sem_untagged, "native: neither the segment nor the semaphore is tagged");
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
    no_xattr = getenv("SHMR_TEST_NO_XATTR") != NULL;
    killed_group();
    lives_on("hold", "a running group");
    lives_on("leader", "a group whose creator exited (a worker handing a name to its parent that never used shm)");
    lives_on("exec-cat", "a group living on in an exec'd program (cat)");
    parallel_groups();
    zombie_group();
    crash_midway();
    foreign_tags();
    return finish();
}
