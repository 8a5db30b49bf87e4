/* What the reclaim must never take: a file somebody has open or mapped, in
   every way the kernel keeps it that a /proc scan could miss.  Each case has
   a redirect directory of its own (SHM_REDIRECT_DIR) with no grace
   (SHM_REDIRECT_RECLAIM_AFTER=0, unless it says otherwise), so a dead
   group's unused objects go at the next new group's first use:
   - a lock shared by name: a dead group made it, a live one holds it, a new
     group's first sem_open(O_CREAT) must find it held;
   - an object a live group re-created (O_TRUNC) after its maker died: its
     maker's record governs it, and it stays for the grace;
   - group 1, a PID namespace's init leading its group;
   - a daemon (fork, setsid, non-dumpable) that only maps the segment its
     dead group made; the same daemon under another uid; one in another PID
     namespace;
   - a program that flock()s the object itself: LOCK_EX, LOCK_UN;
   - files and a folder made through the path calls (joblib's way), one of
     them mapped by a live process;
   - a name unlinked and made again, or opened with O_CREAT, while a
     reclaimer is stopped (ptrace) at its unlinkat: the new file survives,
     and no opener ends up with a file that no name reaches.  The same with
     the reclaimer stopped past the kernel's revocation of its lease, at its
     unlinkat or at its check of the lease (root: fs.lease-break-time set
     to 1 s for the case).
   Each "group" is this binary run again as a helper that leads a process
   group of its own, like Lambda's runtime, and runs commands read from
   stdin, one reply line each. */
#include "common.h"

#include <dirent.h>
#include <sched.h>
#include <stddef.h>
#include <semaphore.h>
#include <signal.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

/* ---- helpers (run as separate processes) ---- */

static void reply(const char *s)
{
    printf("%s\n", s);
    fflush(stdout);
}

static sem_t *held_sem;
static int held_fd = -1;

static const char *run_command(char *cmd)
{
    static char buf[64];
    char *arg = strchr(cmd, ' ');
    char *arg2 = NULL;
    if (arg) {
        *arg++ = '\0';
        arg2 = strchr(arg, ' ');
        if (arg2)
            *arg2++ = '\0';
    }
    char slashed[NAME_MAX + 2];
    snprintf(slashed, sizeof slashed, "/%s", arg ? arg : "");
    if (strcmp(cmd, "touch") == 0) {
        int fd = shm_open("shmr-keep-none", O_RDONLY, 0);
        return fd < 0 && errno == ENOENT ? "ok" : "error";
    }
    if (strcmp(cmd, "sem-make") == 0) {
        sem_t *s = sem_open(slashed, O_CREAT, 0600, 1);
        return s != SEM_FAILED && sem_close(s) == 0 ? "ok" : "error";
    }
    if (strcmp(cmd, "sem-hold") == 0) {
        held_sem = sem_open(slashed, O_CREAT, 0600, 1);
        return held_sem != SEM_FAILED && sem_wait(held_sem) == 0 ? "ok" : "error";
    }
    if (strcmp(cmd, "sem-try") == 0) {
        sem_t *s = sem_open(slashed, O_CREAT, 0600, 1);
        if (s == SEM_FAILED)
            return "error";
        if (sem_trywait(s) == 0)
            return "acquired";
        return errno == EAGAIN ? "busy" : "error";
    }
    if (strcmp(cmd, "shm-make") == 0 || strcmp(cmd, "shm-recreate") == 0 || strcmp(cmd, "shm-map") == 0) {
        int recreate = cmd[4] == 'r', map = cmd[4] == 'm' && cmd[5] == 'a';
        size_t size = recreate ? 1 << 20 : 4096;
        int fd = shm_open(arg, O_CREAT | O_RDWR | (recreate ? O_TRUNC : 0), 0600);
        if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
            return "error";
        char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        if (m == MAP_FAILED)
            return "error";
        memset(m, arg2 ? arg2[0] : 'x', size);
        if (!map)
            munmap(m, size);
        return "ok";
    }
    if (strcmp(cmd, "shm-check") == 0) {
        int fd = shm_open(arg, O_RDWR, 0);
        if (fd < 0)
            return errno == ENOENT ? "ENOENT" : "error";
        char c = 0;
        ssize_t n = pread(fd, &c, 1, 0);
        close(fd);
        return n == 1 && arg2 && c == arg2[0] ? "ok" : "changed";
    }
    if (strcmp(cmd, "shm-hold") == 0 || strcmp(cmd, "shm-create") == 0 || strcmp(cmd, "shm-replace") == 0) {
        /* Opens (O_CREAT) and keeps the descriptor; "shm-replace" unlinks
           the name first.  Replies with the inode held. */
        if (cmd[4] == 'r')
            shm_unlink(arg);
        held_fd = shm_open(arg, O_RDWR | (cmd[4] == 'h' ? 0 : O_CREAT), 0600);
        struct stat st;
        if (held_fd < 0 || fstat(held_fd, &st) != 0)
            return "error";
        snprintf(buf, sizeof buf, "ok %lu", (unsigned long)st.st_ino);
        return buf;
    }
    if (strncmp(cmd, "flock-", 6) == 0) {
        int op = strcmp(cmd, "flock-ex") == 0 ? LOCK_EX | LOCK_NB : strcmp(cmd, "flock-un") == 0 ? LOCK_UN : -1;
        if (flock(held_fd, op) == 0)
            return "ok";
        return errno == EWOULDBLOCK ? "busy" : "error";
    }
    if (strcmp(cmd, "path-make") == 0) {
        /* joblib's way: a folder, files written through open and write. */
        char p[PATH_MAX];
        snprintf(p, sizeof p, "/dev/shm/%s", arg);
        if (mkdir(p, 0700) != 0)
            return "error";
        static char block[1 << 16];
        for (const char *f = "ab"; *f; f++) {
            snprintf(p, sizeof p, "/dev/shm/%s/%c", arg, *f);
            int fd = open(p, O_CREAT | O_WRONLY, 0600);
            for (int i = 0; fd >= 0 && i < 16; i++)
                if (write(fd, block, sizeof block) != (ssize_t)sizeof block)
                    return "error";
            if (fd < 0 || close(fd) != 0)
                return "error";
        }
        return "ok";
    }
    if (strcmp(cmd, "path-map") == 0) {
        char p[PATH_MAX];
        snprintf(p, sizeof p, "/dev/shm/%s", arg);
        int fd = open(p, O_RDONLY);
        void *m = fd >= 0 ? mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
        if (fd >= 0)
            close(fd);
        return m == MAP_FAILED ? "error" : "ok";
    }
    if (strcmp(cmd, "daemonize") == 0 || strcmp(cmd, "daemonize-uid") == 0 || strcmp(cmd, "daemonize-ns") == 0) {
        /* The parent exits once the child has left the group: the group that
           made the mapping is dead, the mapping lives on in the child. */
        int p[2];
        if (pipe(p) != 0)
            return "error";
        pid_t c = fork();
        if (c > 0) {
            char b;
            close(p[1]);
            _exit(read(p[0], &b, 1) == 1 ? 0 : 1);
        }
        close(p[0]);
        /* The child has left the group: on a failure it exits (its parent
           then exits too, and the test reads no reply), never to linger. */
        if (c < 0 || setsid() < 0)
            _exit(1);
        /* What a /proc scan cannot see: a non-dumpable process's maps. */
        prctl(PR_SET_DUMPABLE, 0);
        if (cmd[9] == '-' && cmd[10] == 'u' && setresuid(65534, 65534, 65534) != 0)
            _exit(1);
        if (cmd[9] == '-' && cmd[10] == 'n') {
            /* Its child, holding the mapping, is PID 1 of a namespace of its
               own; this process waits for it (the test kills both). */
            if (unshare(CLONE_NEWPID) != 0)
                _exit(1);
            pid_t g = fork();
            if (g < 0)
                _exit(1);
            if (g > 0) {
                if (write(p[1], "x", 1) != 1)
                    _exit(1);
                close(p[1]);
                printf("ok %d\n", (int)getpid());
                fflush(stdout);
                waitpid(g, NULL, 0);
                _exit(0);
            }
            close(p[1]);
            pause();
            _exit(0);
        }
        if (write(p[1], "x", 1) != 1)
            return "error";
        close(p[1]);
        snprintf(buf, sizeof buf, "ok %d", (int)getpid());
        return buf;
    }
    if (strcmp(cmd, "exit") == 0)
        exit(0);
    return "unknown";
}

static int driven(void)
{
    setpgid(0, 0);
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = '\0';
        reply(run_command(line));
    }
    return 0;
}

/* Leads group 1 of a new PID namespace, makes NAME (sized, then closed and
   unmapped: only its tag speaks for it), lets a helper of another session
   use the directory first, and opens NAME again.  Exit 0: kept; 1: lost;
   77: no new namespace here. */
static int init1(const char *name)
{
    if (unshare(CLONE_NEWPID | CLONE_NEWNS) != 0)
        return 77;
    pid_t c = fork();
    if (c == 0) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0
            || mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
            _exit(77);
        if (setsid() != 1)
            _exit(2);
        int fd = shm_open(name, O_CREAT | O_RDWR, 0600);
        if (fd < 0 || ftruncate(fd, 4096) != 0)
            _exit(2);
        close(fd);
        /* A program of its own (as subprocess.run(..., start_new_session=True)
           starts one): a forked child would inherit this process's open
           directory and never reclaim. */
        char *args[] = { "session-first-use", NULL };
        if (wait_status(spawn_helper(args, NULL, 1, -1)) != 0)
            _exit(2);
        fd = shm_open(name, O_RDWR, 0);
        _exit(fd >= 0 ? 0 : 1);
    }
    return wait_status(c);
}

/* ---- the test process ---- */

struct group {
    pid_t pid;
    int in, out;
};

static struct group start_driven(void)
{
    struct group g = { -1, -1, -1 };
    char *args[] = { "driven", NULL };
    g.pid = spawn_piped(args, NULL, &g.in, &g.out);
    return g;
}

/* Sends CMD to G; its reply line (static). */
static const char *ask(struct group *g, const char *cmd)
{
    dprintf(g->in, "%s\n", cmd);
    return read_reply(g->out);
}

static int ok(struct group *g, const char *cmd)
{
    return strcmp(ask(g, cmd), "ok") == 0;
}

static void end(struct group *g)
{
    if (g->pid > 0)
        kill(-g->pid, SIGKILL);
    close(g->in);
    close(g->out);
    wait_status(g->pid);
}

/* A group that uses the directory once and exits: a new group's first use,
   with its reclaim. */
static int first_use(void)
{
    struct group g = start_driven();
    int r = ok(&g, "touch");
    end(&g);
    return r;
}

/* A group that makes something with CMD and exits: a dead group's object. */
static int made_by_dead_group(const char *cmd)
{
    struct group g = start_driven();
    int r = ok(&g, cmd);
    ask(&g, "exit");
    end(&g);
    return r;
}

static char dir[256];

/* A redirect directory of the case's own: nothing else's leftovers count. */
static void private_dir(const char *name)
{
    snprintf(dir, sizeof dir, "/tmp/shmr-keep-%d-%s", (int)getpid(), name);
    mkdir(dir, 0700);
    char shm[PATH_MAX];
    snprintf(shm, sizeof shm, "%s/shm", dir);
    setenv("SHM_REDIRECT_DIR", shm, 1);
    setenv("SHM_REDIRECT_RECLAIM_AFTER", "0", 1);
}

static void rm_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        for (struct dirent *e; (e = readdir(d));)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
                char p[PATH_MAX];
                snprintf(p, sizeof p, "%s/%s", path, e->d_name);
                if (raw_unlink(p) != 0)
                    rm_tree(p);
            }
        closedir(d);
    }
    rmdir(path);
}

static void drop_private_dir(void)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/shm", dir);
    rm_tree(p);
    snprintf(p, sizeof p, "%s/shm.reclaim", dir);
    rm_tree(p);
    rmdir(dir);
    unsetenv("SHM_REDIRECT_DIR");
}

static ino_t inode(const char *prefix, const char *name)
{
    char p[PATH_MAX];
    struct stat st;
    object_file(p, sizeof p, prefix, name);
    return raw_stat(p, &st) == 0 ? st.st_ino : 0;
}

static void shared_lock(void)
{
    private_dir("lock");
    struct group b = start_driven();
    check(ok(&b, "touch"), "lock: a live group B uses the directory");
    check(made_by_dead_group("sem-make applock"), "lock: group A makes /applock and exits");
    check(ok(&b, "sem-hold applock"), "lock: B opens /applock (O_CREAT) and holds the lock");
    ino_t before = inode("sem.", "applock");
    struct group c = start_driven();
    const char *r = ask(&c, "sem-try applock");
    check(strcmp(r, "busy") == 0, "lock: a new group's first sem_open(O_CREAT) finds it held (%s)", r);
    check(before != 0 && inode("sem.", "applock") == before, "lock: /applock is the same semaphore");
    end(&c);
    end(&b);
    drop_private_dir();
}

static void recreated(void)
{
    private_dir("recreate");
    setenv("SHM_REDIRECT_RECLAIM_AFTER", "10", 1);
    struct group b = start_driven();
    check(ok(&b, "touch"), "re-created: a live group B uses the directory");
    check(made_by_dead_group("shm-make cache a"), "re-created: group A makes /cache and exits");
    check(ok(&b, "shm-recreate cache b"), "re-created: B re-creates /cache (O_TRUNC), sizes it to 1 MiB, writes, closes");
    check(first_use(), "re-created: a new group's first use");
    const char *r = ask(&b, "shm-check cache b");
    check(strcmp(r, "ok") == 0, "re-created: B opens /cache again and finds its data, within A's grace (%s)", r);
    end(&b);
    drop_private_dir();
}

static void group_one(void)
{
    if (getenv("SHMR_TEST_QEMU")) {
        skip("group 1: a PID namespace's init keeps its objects", "no PID namespace under qemu-user");
        return;
    }
    private_dir("init");
    char *args[] = { "init1", "mine", NULL };
    int rc = wait_status(spawn_helper(args, NULL, 1, -1));
    if (rc == 77)
        skip("group 1: a PID namespace's init keeps its objects", "cannot make a PID namespace here (not root?)");
    else
        check(rc == 0,
              "group 1: an init leading group 1 makes /mine; a helper in a new session uses the directory; "
              "/mine is still there (exit %d)",
              rc);
    drop_private_dir();
}

/* Group A makes /seg, maps it, closes it; a child leaves the group with
   setsid, becomes non-dumpable (and, by HOW, another user, or the holder is
   PID 1 of a PID namespace of its own) and keeps only the mapping; A exits. */
static void daemon_mapping(const char *how, const char *what)
{
    private_dir("daemon");
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    struct group a = start_driven();
    check(ok(&a, "shm-map seg d"), "%s: group A makes /seg and maps it", what);
    const char *r = ask(&a, how);
    pid_t daemon = strncmp(r, "ok ", 3) == 0 ? atoi(r + 3) : -1;
    if (daemon < 0 && strcmp(how, "daemonize-ns") == 0) {
        skip(what, "no PID namespace here");
        end(&a);
        prctl(PR_SET_CHILD_SUBREAPER, 0);
        drop_private_dir();
        return;
    }
    check(daemon > 0 && wait_status(a.pid) == 0 && kill(-a.pid, 0) != 0,
          "%s: it forks, the parent exits, the child calls setsid: group A is gone", what);
    ino_t before = inode("", "seg");
    check(first_use(), "%s: a new group's first use (no grace)", what);
    check(before != 0 && inode("", "seg") == before, "%s: /seg is kept, mapped only by the daemon", what);
    if (strcmp(how, "daemonize") == 0) {
        r = ask(&a, "shm-check seg d");
        check(strcmp(r, "ok") == 0, "%s: the daemon opens /seg again by name (%s)", what, r);
    }
    if (daemon > 0) {
        kill(-daemon, SIGKILL); /* with the namespace's init, in its group */
        wait_status(daemon);
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
    }
    close(a.in);
    close(a.out);
    /* SIGKILL is delivered at once, the exit takes a moment. */
    for (int i = 0; i < 100 && first_use() && inode("", "seg") != 0; i++)
        usleep(20000);
    check(inode("", "seg") == 0, "%s: once it is killed, the next group's first use reclaims /seg", what);
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    drop_private_dir();
}

/* A program that flock()s the object itself: its locks work between
   processes as flock's do, and its LOCK_UN leaves the library's own. */
static void program_flock(void)
{
    private_dir("flock");
    struct group b = start_driven(), c = start_driven();
    check(ok(&b, "touch") && ok(&c, "touch"), "flock: live groups B and C use the directory");
    check(made_by_dead_group("shm-make seg f"), "flock: group A makes /seg and exits");
    check(strncmp(ask(&b, "shm-hold seg"), "ok", 2) == 0 && strncmp(ask(&c, "shm-hold seg"), "ok", 2) == 0,
          "flock: groups B and C open /seg and keep it open");
    check(ok(&b, "flock-ex seg"), "flock: B's LOCK_EX|LOCK_NB succeeds while C has it open");
    const char *r = ask(&c, "flock-ex seg");
    check(strcmp(r, "busy") == 0, "flock: C's LOCK_EX|LOCK_NB fails with EWOULDBLOCK while B holds it (%s)", r);
    check(ok(&b, "flock-un seg") && ok(&c, "flock-ex seg") && ok(&c, "flock-un seg"),
          "flock: after B's LOCK_UN, C's succeeds");
    end(&c);
    ino_t before = inode("", "seg");
    check(first_use() && before != 0 && inode("", "seg") == before,
          "flock: after B's LOCK_UN, B still holds /seg against the reclaim");
    end(&b);
    first_use();
    check(inode("", "seg") == 0, "flock: once B is gone, /seg goes");
    drop_private_dir();
}

/* joblib's memmapping folder, made through the path calls. */
static void path_files(void)
{
    private_dir("path");
    char p[PATH_MAX];
    struct group b = start_driven();
    struct group a = start_driven();
    check(ok(&a, "path-make folder"), "path: group A makes /dev/shm/folder/{a,b} (1 MiB each)");
    check(ok(&b, "path-map folder/b"), "path: group B maps /dev/shm/folder/b");
    ask(&a, "exit");
    end(&a);
    check(first_use(), "path: A exited; a new group's first use");
    object_file(p, sizeof p, "", "folder/a");
    int a_gone = !raw_exists(p);
    object_file(p, sizeof p, "", "folder/b");
    check(a_gone && raw_exists(p), "path: the unused file went, the mapped one and its folder stay");
    end(&b);
    first_use();
    object_file(p, sizeof p, "", "folder");
    check(!raw_exists(p), "path: once B is gone, the folder goes");
    drop_private_dir();
}

/* The system call number (ARG -1) or its argument ARG at a syscall stop of
   PID. */
static long syscall_reg(pid_t pid, int arg)
{
#if defined(__x86_64__)
    return ptrace(PTRACE_PEEKUSER, pid,
                  arg < 0    ? offsetof(struct user_regs_struct, orig_rax)
                  : arg == 0 ? offsetof(struct user_regs_struct, rdi)
                             : offsetof(struct user_regs_struct, rsi),
                  0);
#elif defined(__aarch64__)
    struct user_regs_struct regs;
    struct iovec io = { &regs, sizeof regs };
    if (ptrace(PTRACE_GETREGSET, pid, (void *)1 /* NT_PRSTATUS */, &io) != 0)
        return -1;
    return (long)regs.regs[arg < 0 ? 8 : arg];
#else
    (void)arg;
    return -1;
#endif
}

/* Where the traced reclaimer stops: its unlinkat, or the fcntl with this
   command (its check that the lease is still its own). */
static long stop_nr = __NR_unlinkat, stop_fcntl_cmd = -1;

static int stops_here(pid_t pid)
{
    return syscall_reg(pid, -1) == stop_nr && (stop_fcntl_cmd < 0 || syscall_reg(pid, 1) == stop_fcntl_cmd);
}

static int traced_first_use(void (*at_stop)(void), int *stopped)
{
    *stopped = 0;
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0)
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
            _exit(125); /* qemu-user has no ptrace */
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n < 0)
            _exit(126);
        exe[n] = '\0';
        execl(exe, exe, "--helper", "driven", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st)) {
        /* No stop at the exec: no ptrace here (qemu-user runs it as a plain
           child).  Closing its stdin ends it. */
        close(in[1]);
        close(out[0]);
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        return -2;
    }
    ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL);
    if (write(in[1], "touch\nexit\n", 11) != 11)
        return -1;
    int entering = 1, sig = 0;
    for (;;) {
        ptrace(PTRACE_SYSCALL, pid, 0, sig);
        sig = 0;
        if (waitpid(pid, &st, 0) != pid)
            return -1;
        if (WIFEXITED(st) || WIFSIGNALED(st))
            break;
        if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
            if (entering && !*stopped && stops_here(pid)) {
                *stopped = 1;
                at_stop();
            }
            entering = !entering;
        } else if (WSTOPSIG(st) != SIGTRAP) {
            sig = WSTOPSIG(st);
        }
    }
    close(in[1]);
    close(out[0]);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static struct group racer;
static const char *race_cmd;
static int held_back, hold_ms = 300;

/* At the reclaimer's unlinkat of /race (it holds LOCK_EX on the file and
   the gate closed): a live group unlinks and re-creates the name, or opens
   it with O_CREAT.  It must wait until the reclaimer goes on. */
static void race(void)
{
    dprintf(racer.in, "%s\n", race_cmd);
    struct pollfd pf = { racer.out, POLLIN, 0 };
    held_back = poll(&pf, 1, hold_ms) == 0;
}

static void race_at_removal(const char *cmd, const char *what)
{
    const char *stop = stop_fcntl_cmd < 0 ? "at its unlinkat" : "at its check of its lease";
    private_dir("race");
    racer = start_driven();
    check(ok(&racer, "touch"), "race (%s): a live group L uses the directory", what);
    check(made_by_dead_group("shm-make race"), "race (%s): group A makes /race and exits", what);
    race_cmd = cmd;
    held_back = 0;
    int stopped;
    int rc = traced_first_use(race, &stopped);
    if (rc == -2) {
        skip("race: a name made again at the removal survives", "ptrace does not work here (qemu-user?)");
        end(&racer);
        drop_private_dir();
        return;
    }
    const char *r = read_reply(racer.out);
    unsigned long got = strncmp(r, "ok ", 3) == 0 ? strtoul(r + 3, NULL, 10) : 0;
    check(rc == 0 && stopped && held_back,
          "race (%s): the reclaimer was stopped %s for %d ms, and L waited meanwhile", what, stop, hold_ms);
    check(got != 0 && inode("", "race") == (ino_t)got,
          "race (%s): L's file is the one /race names, after the reclaim (%s)", what, r);
    end(&racer);
    drop_private_dir();
}

/* The kernel revokes a lease whose holder does not let go within
   fs.lease-break-time: here 1 s, and the reclaimer stopped for 2.5 s at its
   unlinkat, or at its check that the lease is still its own.  L's open
   returns after 1 s; it must still wait for the reclaimer, then hold the
   file /race names (a new one, or A's, kept). */
static void revoked_lease(void)
{
    const char *knob = "/proc/sys/fs/lease-break-time";
    char was[16] = "";
    FILE *f = fopen(knob, "r+");
    /* A sysctl takes a write at offset 0 only. */
    if (geteuid() != 0 || !f || !fgets(was, sizeof was, f) || fseek(f, 0, SEEK_SET) != 0 || fputs("1\n", f) < 0
        || fflush(f) != 0) {
        skip("race: a reclaimer stopped past its lease's revocation", "fs.lease-break-time cannot be set here");
        if (f)
            fclose(f);
        return;
    }
    fclose(f);
    hold_ms = 2500;
    race_at_removal("shm-create race", "lease revoked");
    stop_nr = __NR_fcntl;
    stop_fcntl_cmd = F_GETLEASE;
    race_at_removal("shm-create race", "lease revoked");
    /* "1" would be another run of this test's: the kernel's default then. */
    f = fopen(knob, "w");
    if (f) {
        fputs(atoi(was) == 1 ? "45\n" : was, f);
        fclose(f);
    }
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--helper") == 0) {
        if (strcmp(argv[2], "driven") == 0)
            return driven();
        if (strcmp(argv[2], "session-first-use") == 0) {
            setsid();
            int fd = shm_open("shmr-keep-none", O_RDONLY, 0);
            return fd < 0 && errno == ENOENT ? 0 : 2;
        }
        if (strcmp(argv[2], "init1") == 0 && argc > 3)
            return init1(argv[3]);
        return 2;
    }
    if (!redirected()) {
        skip("what the reclaim keeps", "/dev/shm is usable: no reclaim");
        return finish();
    }
    shared_lock();
    recreated();
    group_one();
    daemon_mapping("daemonize", "non-dumpable daemon");
    if (geteuid() == 0)
        daemon_mapping("daemonize-uid", "daemon of another uid");
    else
        skip("daemon of another uid", "not root");
    if (getenv("SHMR_TEST_QEMU"))
        skip("daemon in another PID namespace", "no PID namespace under qemu-user");
    else
        daemon_mapping("daemonize-ns", "daemon in another PID namespace");
    program_flock();
    path_files();
    if (getenv("SHMR_TEST_QEMU")) {
        skip("race: a name made again at the removal survives", "no ptrace under qemu-user");
    } else {
        race_at_removal("shm-replace race", "unlinked and made again");
        race_at_removal("shm-create race", "opened with O_CREAT");
        revoked_lease();
    }
    return finish();
}
