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
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0)
        return g;
    fflush(stdout);
    int save0 = dup(0), save1 = dup(1);
    dup2(in[0], 0);
    dup2(out[1], 1);
    g.pid = spawn_helper(args, env, 1, -1);
    dup2(save0, 0);
    dup2(save1, 1);
    close(save0);
    close(save1);
    close(in[0]);
    close(out[1]);
    fcntl(in[1], F_SETFD, FD_CLOEXEC);
    fcntl(out[0], F_SETFD, FD_CLOEXEC);
    g.in = in[1];
    g.out = out[0];
    if (!nowait) {
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
        check(strstr(err, "reclaim: removed ") && strstr(err, name) && strstr(err, "has no process left"),
              "SHM_REDIRECT_DEBUG=1 says what was reclaimed and why: %.*s", (int)strcspn(err, "\n"), err);
    char use[64];
    uniq(use, sizeof use, "use");
    char *uargs[] = { "use", use, NULL };
    check(run_helper(uargs, debug_env) == 0, "a new group creates and removes objects");
    if (no_xattr)
        check(strstr(err, "no user extended attributes") != NULL, "... and SHM_REDIRECT_DEBUG=1 says they are not tagged");
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
        check(strstr(err, "has only zombie processes left") != NULL, "... said as: %.*s", (int)strcspn(err, "\n"), err);
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

/* Claims in the registry whose group is dead, but the last touch()'s own
   (it claims its group, then exits). */
static int dead_claims(void)
{
    char reg[PATH_MAX];
    snprintf(reg, sizeof reg, "%s.reclaim", object_dir());
    DIR *d = opendir(reg);
    if (!d)
        return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        char *dot = strchr(e->d_name, '.');
        if (e->d_name[0] != '.' && dot && atoi(dot + 1) != last_touch && kill(-atoi(dot + 1), 0) != 0)
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

/* Objects nobody tagged, or tagged for another boot or PID namespace, are
   never taken; a well-formed tag of a dead group of ours is. */
static void foreign_tags(void)
{
    char plain[64], other[64], ours[PATH_MAX];
    uniq(plain, sizeof plain, "untagged");
    uniq(other, sizeof other, "other-ns");
    char p1[PATH_MAX], p2[PATH_MAX], p3[PATH_MAX];
    object_file(p1, sizeof p1, "", plain);
    object_file(p2, sizeof p2, "", other);
    uniq(ours, sizeof ours, "forged");
    object_file(p3, sizeof p3, "", ours);
    int f1 = open(p1, O_CREAT | O_EXCL | O_WRONLY, 0600), f2 = open(p2, O_CREAT | O_EXCL | O_WRONLY, 0600),
        f3 = open(p3, O_CREAT | O_EXCL | O_WRONLY, 0600);
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
    struct stat ns;
    stat("/proc/self/ns/pid", &ns);
    char tag_other[128], tag_ours[128];
    snprintf(tag_other, sizeof tag_other, "%s:%llu:%d", hex, (unsigned long long)ns.st_ino + 1, (int)gone);
    snprintf(tag_ours, sizeof tag_ours, "%s:%llu:%d", hex, (unsigned long long)ns.st_ino, (int)gone);
    int t2 = fsetxattr(f2, XATTR, tag_other, strlen(tag_other), 0);
    int t3 = fsetxattr(f3, XATTR, tag_ours, strlen(tag_ours), 0);
    check(f1 >= 0 && f2 >= 0 && f3 >= 0 && (no_xattr || (t2 == 0 && t3 == 0)),
          "an untagged file, one tagged for another PID namespace, one for a dead group of ours");
    close(f1);
    close(f2);
    close(f3);
    touch(NULL);
    check(raw_exists(p1), "the untagged file is kept");
    check(raw_exists(p2), "the other namespace's is kept");
    check(no_xattr ? raw_exists(p3) : !raw_exists(p3), "the dead group's is %s", no_xattr ? "kept (no xattrs)" : "reclaimed");
    raw_unlink(p1);
    raw_unlink(p2);
    raw_unlink(p3);
}

/* With a usable /dev/shm the library stays out of the way: no tags, no
   registry, a killed group's objects stay as glibc leaves them. */
static void native(void)
{
    char name[64], p[PATH_MAX];
    uniq(name, sizeof name, "native");
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
    check(!raw_exists("/dev/shm.reclaim") && !raw_exists("/tmp/shm.reclaim"), "native: no registry is made");
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
