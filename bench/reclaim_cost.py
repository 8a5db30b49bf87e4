"""The reclaim's cost targets (issue 25), in one run, on a fresh ext4 image as Lambda's /tmp.

usage: python3 bench/reclaim_cost.py LIBRARY [--launches N]

Prints a markdown report:
- a new group's first use (`shm_ops first-open` launched in a new session) when nothing died, reclaim on against
  reclaim off, the launches interleaved;
- the same with 100,000 objects of a live group in the directory and one dead group that made 10 objects (5
  segments + 5 semaphores) and nobody uses, no grace (SHM_REDIRECT_RECLAIM_AFTER=0): the first use reclaims
  them;
- per call, against glibc with its /dev/shm bind-mounted on another directory of the same image: shm_open and
  sem_open of an existing name, and sem_open create + sem_close + sem_unlink with 50,000 other semaphores open;
  shm_open of an existing name also with the reclaim off (SHM_REDIRECT_RECLAIM=0), the library's cost without it;
  and the kernel's floor of the first: openat + close by system calls, with and without the fstat of the link
  count that the reclaim needs.
Needs root (the sandbox and the loop mount), cc, mkfs.ext4. Wall times include the launch; CPU is the launched
process's user + system time.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def inner(shm_ops, library, launches):
    """Inside the sandbox: the first-use scenes."""
    os.setsid()
    base = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"} | {"LD_PRELOAD": library}

    def launch(extra):
        env = base | extra
        t0 = time.perf_counter()
        pid = os.posix_spawn(shm_ops, [shm_ops, "first-open"], env, setsid=True)
        _, status, usage = os.wait4(pid, 0)
        assert status == 0, status
        return time.perf_counter() - t0, usage.ru_utime + usage.ru_stime

    def group(count, kill):
        proc = subprocess.Popen([shm_ops, "objects", str(count)], env=base, stdout=subprocess.PIPE,
                                start_new_session=True)
        assert proc.stdout.readline() == b"ready\n"
        if kill:
            os.killpg(proc.pid, 9)
            proc.wait()
        return proc

    out = {}
    states = {"off": {"SHM_REDIRECT_RECLAIM": "0"}, "on": {}}
    launch({})
    for i in range(launches):
        for s in (list(states)[i % 2:] + list(states)[:i % 2]):
            wall, cpu = launch(states[s])
            out.setdefault("empty_" + s, []).append((wall, cpu))
    live = group(50000, False)
    launch({"SHM_REDIRECT_RECLAIM_AFTER": "0"})
    for i in range(launches):
        wall, cpu = launch({"SHM_REDIRECT_RECLAIM_AFTER": "0"})
        out.setdefault("crowded_nothing", []).append((wall, cpu))
        group(5, True)
        before = len(os.listdir("/tmp/shm"))
        wall, cpu = launch({"SHM_REDIRECT_RECLAIM_AFTER": "0"})
        assert len(os.listdir("/tmp/shm")) == before - 10, "the dead group's 10 objects were not reclaimed"
        out.setdefault("crowded_dead", []).append((wall, cpu))
    os.killpg(live.pid, 9)
    live.wait()
    print(json.dumps(out))


def run(argv, **kw):
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


def per_call(prefix_glibc, prefix_lib, shm_ops, reps):
    """shm_ops's own per-operation latencies (µs, CPU), glibc and the library interleaved."""
    modes = (("shm-reopen", ["shm-reopen", "20000"]), ("sem-reopen", ["sem-reopen", "20000"]),
             ("sem-open held 50,000", ["sem-open", "2000", "50000"]))
    res = {}
    prefix_off = prefix_lib + ["env", "SHM_REDIRECT_RECLAIM=0"]
    for rep in range(reps):
        variants = (("glibc", prefix_glibc, modes), ("library", prefix_lib, modes), ("reclaim off", prefix_off, modes[:1]))
        for variant, prefix, chosen in variants[::1 if rep % 2 else -1]:
            for label, args in chosen:
                text = run(prefix + [shm_ops] + args).stdout
                data = json.loads(text)
                key = next(k for k in data if k.endswith("_cpu"))
                res.setdefault((label, variant), []).extend(data[key])
        # The kernel's floor, by system calls only: openat + close, and the same with the library's fstat.
        for label in ("raw-reopen", "raw-reopen-check"):
            data = json.loads(run(prefix_glibc + [shm_ops, label, "20000"]).stdout)
            res.setdefault((label, "glibc"), []).extend(data[label.replace("-", "_") + "_us_cpu"])
    return res


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        inner(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    library = os.path.abspath(sys.argv[1])
    launches = int(sys.argv[sys.argv.index("--launches") + 1]) if "--launches" in sys.argv else 30
    work = tempfile.mkdtemp(prefix="reclaim-cost.", dir="/var/tmp")
    disk = os.path.join(work, "disk")
    os.mkdir(disk)
    try:
        image = os.path.join(work, "disk.img")
        run(["truncate", "-s", "2G", image])
        run(["mkfs.ext4", "-q", "-F", image])
        run(["mount", "-o", "loop", image, disk])
        tmp, devshm = os.path.join(disk, "tmp"), os.path.join(disk, "devshm")
        for d in (tmp, devshm):
            os.mkdir(d)
            os.chmod(d, 0o1777)
        shm_ops = os.path.join(work, "shm_ops")
        run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", shm_ops, os.path.join(HERE, "shm_ops.c"), "-pthread"])
        sandbox = [os.path.join(REPO, "test", "tools", "lambda-sandbox.sh"), "--tmp", tmp, "--"]
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        first = json.loads(run(sandbox + [sys.executable, os.path.abspath(__file__), "--inner", shm_ops, library,
                                          str(launches)], env=env).stdout)
        glibc = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                 'mount --bind "$0" /dev/shm && exec "$@"', devshm]
        calls = per_call(glibc, sandbox + ["env", f"LD_PRELOAD={library}"], shm_ops, 5)
    finally:
        subprocess.run(["umount", disk])
        subprocess.run(["rm", "-rf", work])

    def med(key, i):
        return statistics.median(v[i] for v in first[key]) * 1e3

    print(f"{launches} launches per state, interleaved; medians. Load average {open('/proc/loadavg').read().split()[:3]}.\n")
    print("| first use of a new group | wall, ms | CPU, ms | CPU / reclaim off |")
    print("|---|---|---|---|")
    for key, title in (("empty_off", "reclaim off, nothing died"), ("empty_on", "reclaim on, nothing died"),
                       ("crowded_nothing", "100,000 live objects, nothing died (no grace)"),
                       ("crowded_dead", "100,000 live objects + a dead group's 10 objects, reclaimed (no grace)")):
        print(f"| {title} | {med(key, 0):.2f} | {med(key, 1):.2f} | {med(key, 1) / med('empty_off', 1):.2f} |")
    print("\n| per call (CPU µs, median of 5 runs x 5 rounds) | glibc on ext4 | library | ratio |")
    print("|---|---|---|---|")
    for label in ("shm-reopen", "sem-reopen", "sem-open held 50,000"):
        g, l = statistics.median(calls[label, "glibc"]), statistics.median(calls[label, "library"])
        print(f"| {label} | {g:.2f} | {l:.2f} | {l / g:.2f} |")
    off = statistics.median(calls["shm-reopen", "reclaim off"])
    g = statistics.median(calls["shm-reopen", "glibc"])
    print(f"| shm-reopen, reclaim off | {g:.2f} | {off:.2f} | {off / g:.2f} |")
    bare, checked = (statistics.median(calls[label, "glibc"]) for label in ("raw-reopen", "raw-reopen-check"))
    print(f"\nThe kernel's floor, by system calls on the same ext4: openat + close {bare:.2f} µs, with an fstat "
          f"between {checked:.2f} µs: {checked / bare:.2f}x.")


if __name__ == "__main__":
    main()
