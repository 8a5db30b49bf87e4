"""Per-call cost of the interposed calls, for several builds of shm_redirect.so against glibc, in one run.

usage: python3 bench/per_call.py [--calls N] [--reps N] LABEL=LIBRARY [LABEL=LIBRARY ...]

For each operation of bench/shm_ops.c (sem_open create + sem_close + sem_unlink; shm_open create + ftruncate +
close + shm_unlink; sem_open and shm_open of an existing name) and each variant, three measures:
- user-space instructions per call of each interposed function (callgrind, inclusive): the same from run to run
  whatever else the machine does, so a difference between two builds is theirs. Counted as the difference
  between a run of 2N and one of N iterations, so a process's first use (the directory opened and checked, the
  reclaim's claim) drops out;
- system calls per iteration (strace -c, the same difference);
- the measuring thread's CPU time per iteration (user + system), the variants interleaved in an order rotated
  from one repetition to the next, so that the machine's drift lands on all of them alike.
Variants: native (the host's /dev/shm on tmpfs, no library), glibc with its /dev/shm bind-mounted on a directory
of a fresh ext4 image (in a private mount namespace), and each LIBRARY preloaded in
test/tools/lambda-sandbox.sh (no /dev/shm) with /tmp on another directory of that image. Needs root, cc,
valgrind, strace, mkfs.ext4. Prints a markdown report on stdout.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# shm_ops mode, what one iteration does, the interposed functions it calls once each.
OPERATIONS = (
    ("sem-open", "sem_open create + sem_close + sem_unlink", ("sem_open", "sem_close", "sem_unlink")),
    ("shm-sized", "shm_open create + ftruncate + close + shm_unlink", ("shm_open", "ftruncate", "shm_unlink")),
    ("sem-reopen", "sem_open of an existing name + sem_close", ("sem_open", "sem_close")),
    ("shm-reopen", "shm_open of an existing name + close", ("shm_open",)),
)
ROUNDS = 5  # shm_ops runs each measure this many times


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


class Variants:
    def __init__(self, work, libraries):
        self.sandbox = os.path.join(work, "lambda-sandbox.sh")
        shutil.copy(os.path.join(REPO, "test", "tools", "lambda-sandbox.sh"), self.sandbox)
        self.tmp = os.path.join(work, "disk", "tmp")
        self.glibc_shm = os.path.join(work, "disk", "devshm")
        self.libraries = libraries

    def names(self):
        return ["native", "glibc-ext4"] + [label for label, _ in self.libraries]

    def prefix(self, variant):
        if variant == "native":
            return []
        if variant == "glibc-ext4":
            return ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                    'mount --bind "$0" /dev/shm && exec "$@"', self.glibc_shm]
        library = dict(self.libraries)[variant]
        return [self.sandbox, "--tmp", self.tmp, "--", "env", f"LD_PRELOAD={library}"]


def run(argv):
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"per_call: {' '.join(argv)} failed (exit {proc.returncode}):\n{proc.stderr}")
    return proc


def instructions(variants, variant, shm_ops, mode, functions, calls, work):
    """Inclusive user-space instructions per call of each function: (count at 2N - count at N) / (ROUNDS N)."""
    counts = []
    for n in (calls, 2 * calls):
        out = os.path.join(work, "callgrind.out")
        run(variants.prefix(variant) + ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                                        shm_ops, mode, str(n)])
        text = run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out]).stdout
        os.remove(out)
        found = {}
        for line in text.splitlines():
            m = re.match(r"\s*([\d,]+) .*?:(\w+)(?:@@?[\w.]+)? \[(\S+)\]", line)
            # The library's function where it is preloaded (it may call glibc's), else glibc's.
            if m and m.group(2) in functions and m.group(2) not in found:
                found[m.group(2)] = int(m.group(1).replace(",", ""))
        missing = [f for f in functions if f not in found]
        if missing:
            raise SystemExit(f"per_call: {variant} {mode}: callgrind shows no {', '.join(missing)}")
        counts.append(found)
    return {f: (counts[1][f] - counts[0][f]) / (ROUNDS * calls) for f in functions}


def syscalls(variants, variant, shm_ops, mode, calls):
    """System calls per iteration, by name: the same difference of two strace -c counts."""
    counts = []
    for n in (calls, 2 * calls):
        text = run(variants.prefix(variant) + ["strace", "-c", "-U", "name,calls", shm_ops, mode, str(n)]).stderr
        count = {}
        for line in text.splitlines():
            m = re.match(r"\s*(\w+)\s+(\d+)\s*$", line)
            if m and m.group(1) != "total":
                count[m.group(1)] = int(m.group(2))
        counts.append(count)
    per = {}
    for name in set(counts[0]) | set(counts[1]):
        d = (counts[1].get(name, 0) - counts[0].get(name, 0)) / (ROUNDS * calls)
        if d >= 0.5:
            per[name] = round(d)
    return per


def fmt_syscalls(per):
    return ", ".join(f"{name}{' x%d' % n if n > 1 else ''}" for name, n in sorted(per.items())) or "none"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1000, help="iterations per round (default 1000)")
    parser.add_argument("--reps", type=int, default=10, help="interleaved timing repetitions (default 10)")
    parser.add_argument("libraries", nargs="+", metavar="LABEL=LIBRARY")
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("per_call: needs root (the sandbox and the ext4 image are mounts)")
    libraries = []
    for spec in args.libraries:
        label, sep, path = spec.partition("=")
        if not sep or not label or not os.path.isfile(path):
            raise SystemExit(f"per_call: {spec}: expected LABEL=LIBRARY, an existing shm_redirect.so")
        libraries.append((label, os.path.abspath(path)))
    if args.calls < 1 or args.reps < 1:
        raise SystemExit("per_call: --calls and --reps take positive whole numbers")

    cache = os.path.join(os.environ.get("CLM_CACHE_DIR", "/var/cache/cdk-lambda-multiprocessing"), "bench")
    os.makedirs(cache, exist_ok=True)
    work = tempfile.mkdtemp(prefix="per-call.", dir=cache)
    disk = os.path.join(work, "disk")
    os.mkdir(disk)
    try:
        # A fresh ext4 image, as in bench/run.sh: Lambda's /tmp is a fresh file system, and this machine's own
        # disk moves such figures several-fold with its state.
        image = os.path.join(work, "disk.img")
        run(["truncate", "-s", "1G", image])
        run(["mkfs.ext4", "-q", "-F", image])
        run(["mount", "-o", "loop", image, disk])
        variants = Variants(work, libraries)
        for d in (variants.tmp, variants.glibc_shm):
            os.mkdir(d)
            os.chmod(d, 0o1777)
        shm_ops = os.path.join(work, "shm_ops")
        run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", shm_ops, os.path.join(HERE, "shm_ops.c"), "-pthread"])
        report(args, variants, shm_ops, work)
    finally:
        if os.path.ismount(disk):
            subprocess.run(["umount", disk])
        shutil.rmtree(work, ignore_errors=True)


def report(args, variants, shm_ops, work):
    names = variants.names()
    load = [loadavg()]
    print("per_call: instruction and system call counts", file=sys.stderr)
    instr, sysc = {}, {}
    for mode, _, functions in OPERATIONS:
        for v in ["native"] + names[2:]:  # glibc counts the same instructions on either file system
            instr[mode, v] = instructions(variants, v, shm_ops, mode, functions, args.calls // 10 or 1, work)
            sysc[mode, v] = syscalls(variants, v, shm_ops, mode, args.calls // 10 or 1)
    print(f"per_call: {args.reps} interleaved timing repetitions", file=sys.stderr)
    cpu = {}
    for rep in range(args.reps):
        order = names[rep % len(names):] + names[:rep % len(names)]
        for v in order:
            for mode, _, _ in OPERATIONS:
                out = run(variants.prefix(v) + [shm_ops, mode, str(args.calls)]).stdout
                values = re.search(r'_cpu": \[([^\]]*)\]', out).group(1)
                cpu.setdefault((mode, v), []).extend(float(x) for x in values.split(","))
        load.append(loadavg())

    labels = names[2:]
    print(f"Load average (1, 5, 15 min): {' '.join(load[0])} before, {' '.join(load[-1])} after, 1-min peak "
          f"{max(float(l[0]) for l in load):.2f}; {args.reps} repetitions x {ROUNDS} rounds of {args.calls} "
          f"iterations per variant for the times, {args.calls // 10 or 1} and {2 * (args.calls // 10 or 1)} "
          f"iterations x {ROUNDS} rounds for the counts.\n")
    print("User-space instructions per call (callgrind, inclusive; the library's own function where it is "
          "preloaded):\n")
    print("| operation | call | native glibc | " + " | ".join(labels) + " | " +
          " | ".join(f"{l} / native" for l in labels) + " |")
    print("|---|---|---|" + "---|" * (2 * len(labels)))
    for mode, title, functions in OPERATIONS:
        for f in functions:
            base = instr[mode, "native"][f]
            cells = [f"{instr[mode, l][f]:,.0f}" for l in labels]
            ratios = [f"{instr[mode, l][f] / base:.2f}" for l in labels]
            print(f"| {title} | `{f}` | {base:,.0f} | " + " | ".join(cells) + " | " + " | ".join(ratios) + " |")
    print("\nSystem calls per iteration (strace -c):\n")
    print("| operation | native glibc | " + " | ".join(labels) + " |")
    print("|---|---|" + "---|" * len(labels))
    for mode, title, _ in OPERATIONS:
        print(f"| {title} | {fmt_syscalls(sysc[mode, 'native'])} | " +
              " | ".join(fmt_syscalls(sysc[mode, l]) for l in labels) + " |")
    print("\nCPU time per iteration, µs (median ±half the interquartile range; ratio: variant / glibc on the same "
          "ext4, then / native tmpfs):\n")
    print("| operation | native glibc (tmpfs) | glibc, same ext4 | " + " | ".join(labels) + " | " +
          " | ".join(f"{l} / glibc ext4 (/ native)" for l in labels) + " |")
    print("|---|---|---|" + "---|" * (2 * len(labels)))
    for mode, title, _ in OPERATIONS:
        def cell(v):
            xs = cpu[mode, v]
            med = statistics.median(xs)
            q = statistics.quantiles(xs, n=4)
            return med, f"{med:.2f} ±{(q[2] - q[0]) / 2 / med * 100:.0f}%"
        native, ext4 = cell("native"), cell("glibc-ext4")
        libs = [cell(l) for l in labels]
        print(f"| {title} | {native[1]} | {ext4[1]} | " + " | ".join(c[1] for c in libs) + " | " +
              " | ".join(f"{c[0] / ext4[0]:.2f} ({c[0] / native[0]:.2f})" for c in libs) + " |")


if __name__ == "__main__":
    main()
