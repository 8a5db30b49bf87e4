"""Python-level workloads, one measurement per run; bench/driver.py repeats and interleaves the runs.

usage: python3 workloads.py [--impl stdlib|lmp] [--preload SO] WORKLOAD SIZE

Prints one JSON object mapping metric names to values (rates per second, times in seconds), except the
start-up workloads, which print a list of samples under their metric name.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time


# One map of tiny tasks can be shorter than a scheduler hiccup on a shared machine: take several.
MAPS_PER_RUN = 3


def tiny(x):
    return x + 1


def nap(seconds):
    time.sleep(seconds)
    return seconds


def pool_class(impl):
    if impl == "lmp":
        from lambda_multiprocessing import Pool
    else:
        from multiprocessing import Pool
    return Pool


def pool_start(impl, size):
    """Pool(2) until its first result, then close() + join(); `size` cycles, one sample each."""
    Pool = pool_class(impl)
    starts, stops = [], []
    for _ in range(size):
        t0 = time.perf_counter()
        pool = Pool(2)
        pool.apply(tiny, (1,))
        t1 = time.perf_counter()
        pool.close()
        pool.join()
        t2 = time.perf_counter()
        starts.append(t1 - t0)
        stops.append(t2 - t1)
    return {"pool_start_s": starts, "pool_stop_s": stops}


def pool_map(impl, size):
    """Pool.map over `size` tiny tasks, the pool already running; a few maps, one sample each."""
    Pool = pool_class(impl)
    pool = Pool(2)
    pool.apply(tiny, (1,))
    samples = []
    for _ in range(MAPS_PER_RUN):
        t0 = time.perf_counter()
        out = pool.map(tiny, range(size))
        samples.append(time.perf_counter() - t0)
        if out[-1] != size:
            raise SystemExit(f"pool_map: wrong result {out[-1]!r}")
    pool.close()
    pool.join()
    return {"pool_map_s": samples}


def pool_imbalanced(impl, size):
    """One 0.2 s task in the middle of `size` 2 ms tasks (sleeps, like I/O-bound work); wall time of map."""
    Pool = pool_class(impl)
    tasks = [0.002] * size
    tasks[size // 2] = 0.2
    pool = Pool(2)
    pool.apply(tiny, (1,))
    t0 = time.perf_counter()
    out = pool.map(nap, tasks)
    dt = time.perf_counter() - t0
    pool.close()
    pool.join()
    if out != tasks:
        raise SystemExit("pool_imbalanced: wrong results")
    return {"pool_imbalanced_s": dt}


def _stage(q_in, q_out):
    for item in iter(q_in.get, None):
        q_out.put(item * 2)
    q_out.put(None)


def _produce(q_out, size):
    for i in range(size):
        q_out.put(i)
    q_out.put(None)


def queue_pipeline(impl, size):
    """Producer -> doubling stage -> this process, through two multiprocessing.Queue; items per second."""
    import multiprocessing as mp

    q1, q2 = mp.Queue(), mp.Queue()
    stage = mp.Process(target=_stage, args=(q1, q2))
    producer = mp.Process(target=_produce, args=(q1, size))
    t0 = time.perf_counter()
    stage.start()
    producer.start()
    total = sum(iter(q2.get, None))
    dt = time.perf_counter() - t0
    producer.join()
    stage.join()
    if total != size * (size - 1):
        raise SystemExit(f"queue_pipeline: wrong total {total}")
    return {"queue_items": size / dt}


def _read_shared(name, size, conn):
    from multiprocessing import shared_memory

    dst = bytearray(size)
    dst[:] = b"\1" * size  # fault the destination in before timing: only the shared pages should count
    t0 = time.perf_counter()
    shm = shared_memory.SharedMemory(name=name)
    dst[:] = shm.buf[:size]
    dt = time.perf_counter() - t0
    ok = dst[0] == 0x5A and dst[-1] == 0x5A
    shm.close()
    conn.send((dt, ok))


def shared_memory_bw(impl, size_mib):
    """One process creates and fills a SharedMemory of `size_mib` MiB, another attaches and copies it out."""
    import multiprocessing as mp
    from multiprocessing import shared_memory

    size = size_mib << 20
    src = b"\x5a" * size
    t0 = time.perf_counter()
    shm = shared_memory.SharedMemory(create=True, size=size)
    shm.buf[:size] = src
    write_dt = time.perf_counter() - t0
    parent, child = mp.Pipe()
    reader = mp.Process(target=_read_shared, args=(shm.name, size, child))
    reader.start()
    read_dt, ok = parent.recv()
    reader.join()
    shm.close()
    shm.unlink()
    if not ok:
        raise SystemExit("shared_memory: the reader saw other bytes than the writer wrote")
    return {"shm_write_gbs": size / write_dt / 1e9, "shm_read_gbs": size / read_dt / 1e9}


def py_lock(impl, size):
    """multiprocessing.Lock acquire + release pairs in one process."""
    import multiprocessing as mp

    lock = mp.Lock()
    acquire, release = lock.acquire, lock.release
    t0 = time.perf_counter()
    for _ in range(size):
        acquire()
        release()
    return {"py_lock_ops": size / (time.perf_counter() - t0)}


def _pong(ping, pong, size):
    for _ in range(size):
        ping.acquire()
        pong.release()


def py_pingpong(impl, size):
    """Round trips between two processes through two multiprocessing.Semaphore."""
    import multiprocessing as mp

    ping, pong = mp.Semaphore(0), mp.Semaphore(0)
    other = mp.Process(target=_pong, args=(ping, pong, size))
    other.start()
    t0 = time.perf_counter()
    for _ in range(size):
        ping.release()
        pong.acquire()
    dt = time.perf_counter() - t0
    other.join()
    return {"py_pingpong_roundtrips": size / dt}


# /bin/true shows the preload's own cost (loading one more library) without an interpreter's noise around it.
STARTUP_COMMANDS = {
    "startup_true": ["/bin/true"],
    "startup_pass": [sys.executable, "-c", "pass"],
    "startup_imports": [sys.executable, "-c", "import email, json, asyncio"],
}
INSTRUCTION_COUNTS = {m.replace("startup", "instructions") for m in STARTUP_COMMANDS}


def launch(argv, env):
    """Wall time and CPU time (user + sys) of one launch of argv."""
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"{argv} exited with status {status:#x}")
    # CPU time of the child alone: less disturbed than wall time by other jobs on a busy machine.
    return wall, usage.ru_utime + usage.ru_stime


def startup(metric, preload, size):
    """`size` launches of a command; with a preload, `size` more without it, alternating with those with it.

    Between two harness processes the same start-up differs by a millisecond or more (measured: 33.6 and
    35.0 ms of CPU for `python3 -c pass`, without the preload in both), ten times what the preload adds, so
    its cost is only read from launches interleaved in one process, reported under the "_without" keys."""
    bare = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    argv = STARTUP_COMMANDS[metric]
    out = {metric: [], metric + "_cpu": []}
    if preload:
        out.update({metric + "_without": [], metric + "_cpu_without": []})
        # Untimed: the first launch of a harness meets colder caches than the ones after it.
        launch(argv, bare)
    for _ in range(size):
        if preload:
            wall, cpu = launch(argv, bare)
            out[metric + "_without"].append(wall)
            out[metric + "_cpu_without"].append(cpu)
        wall, cpu = launch(argv, bare | {"LD_PRELOAD": preload} if preload else bare)
        out[metric].append(wall)
        out[metric + "_cpu"].append(cpu)
    return out


# The reclaim's cost at a process's first use (layer/src/reclaim.c), `shm_ops first-open` launched in three ways:
# off: SHM_REDIRECT_RECLAIM=0; member: its process group was claimed by an earlier process (every process of a
# runtime but the first); leader: a process group of its own each time (setsid), so it claims its group, scans
# the directory and forgets the claims of dead groups, as the first process of each new runtime does.
RECLAIM_MODES = ("off", "member", "leader")


def first_use_launch(shm_ops, preload, mode):
    # No grace: a dead group's objects go at the next new group's first use, which is what is measured.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"} | {"LD_PRELOAD": preload,
                                                                         "SHM_REDIRECT_RECLAIM_AFTER": "0"}
    if mode == "off":
        env["SHM_REDIRECT_RECLAIM"] = "0"
    return [shm_ops, "first-open"], env, mode == "leader"


def lead_own_group():
    """Makes this harness the leader of a process group of its own, as Lambda's runtime is: a reclaim then
    finds the group alive from its leader's /proc entry alone."""
    if os.getpgid(0) != os.getpid():
        os.setsid()


def claim_own_group(shm_ops, preload):
    """Leads a group of its own and has it claimed, so that "member" launches find it claimed."""
    lead_own_group()
    argv, env, _ = first_use_launch(shm_ops, preload, "member")
    os.waitpid(os.posix_spawn(argv[0], argv, env), 0)


def leaderless_group(shm_ops, preload):
    """A live group whose leader has exited, holding one object: a reclaim must scan all of /proc to tell it
    from a group of zombies."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"} | {"LD_PRELOAD": preload}
    sh = subprocess.Popen(["/bin/sh", "-c", '"$0" objects 1 & wait_for_ready() { read -r line; }; exit 0', shm_ops],
                          env=env, start_new_session=True, stdout=subprocess.DEVNULL)
    sh.wait()
    return sh.pid


def launch_first_use(shm_ops, preload, mode):
    argv, env, setsid = first_use_launch(shm_ops, preload, mode)
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, setsid=setsid)
    _, status, usage = os.wait4(pid, 0)
    if status != 0:
        raise SystemExit(f"reclaim_first_use: {argv} ({mode}) exited with status {status:#x}")
    return time.perf_counter() - t0, usage.ru_utime + usage.ru_stime


def reclaim_first_use(shm_ops, preload, size):
    """`size` launches per mode, the three modes interleaved; wall and CPU time of each. Then `size` launches of
    "leader" while a live group without a leader holds an object ("leaderless"): it is killed only afterwards,
    and cleared by one more launch, so that no other launch pays for reclaiming it."""
    out = {}
    claim_own_group(shm_ops, preload)
    phases = [(i, RECLAIM_MODES[i % 3:] + RECLAIM_MODES[:i % 3]) for i in range(size)]
    for _, order in phases:
        for mode in order:
            wall, cpu = launch_first_use(shm_ops, preload, mode)
            out.setdefault(f"first_use_{mode}", []).append(wall)
            out.setdefault(f"first_use_{mode}_cpu", []).append(cpu)
    orphan = leaderless_group(shm_ops, preload)
    for _ in range(size):
        wall, cpu = launch_first_use(shm_ops, preload, "leader")
        out.setdefault("first_use_leaderless", []).append(wall)
        out.setdefault("first_use_leaderless_cpu", []).append(cpu)
    os.killpg(orphan, 9)
    time.sleep(0.1)
    launch_first_use(shm_ops, preload, "leader")
    return out


def reclaim_instructions(shm_ops, preload, size):
    """User-space instructions (callgrind) of one first use per mode."""
    if size != 1:
        raise SystemExit("reclaim_instructions: instruction counts are deterministic; run it once (size 1)")
    out = {}
    claim_own_group(shm_ops, preload)
    for mode in RECLAIM_MODES:
        argv, env, setsid = first_use_launch(shm_ops, preload, mode)
        argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv]
        proc = subprocess.run(argv, env=env, capture_output=True, text=True, start_new_session=setsid)
        found = re.search(r"Collected : (\d+)", proc.stderr)
        if proc.returncode != 0 or not found:
            raise SystemExit(f"reclaim_instructions: {' '.join(argv)} failed (exit {proc.returncode}):\n{proc.stderr}")
        out[f"reclaim_instructions_{mode}"] = int(found.group(1))
    return out


def reclaim_dead(shm_ops, preload, size):
    """A killed group leaves `size` segments and `size` semaphores; the wall time of the next group's first use,
    which removes them all (5 samples), next to the same launch with nothing to remove."""
    lead_own_group()
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"} | {"LD_PRELOAD": preload}
    argv, first_env, _ = first_use_launch(shm_ops, preload, "leader")
    out = {"reclaim_dead": [], "reclaim_none": []}
    os.waitpid(os.posix_spawn(argv[0], argv, first_env, setsid=True), 0)  # whatever an earlier workload left
    for _ in range(5):
        maker = subprocess.Popen([shm_ops, "objects", str(size)], env=env, stdout=subprocess.PIPE,
                                 start_new_session=True)
        if maker.stdout.readline() != b"ready\n":
            raise SystemExit("reclaim_dead: shm_ops objects did not get ready")
        os.killpg(maker.pid, 9)
        maker.wait()
        for key in ("reclaim_dead", "reclaim_none"):
            t0 = time.perf_counter()
            _, status = os.waitpid(os.posix_spawn(argv[0], argv, first_env, setsid=True), 0)
            out[key].append(time.perf_counter() - t0)
            if status != 0:
                raise SystemExit(f"reclaim_dead: {argv} exited with status {status:#x}")
        left = [n for n in os.listdir("/dev/shm") if n.startswith(f"clm-bench-dead-{maker.pid}-")
                or n.startswith(f"sem.clm-bench-dead-{maker.pid}-")]
        if left:
            raise SystemExit(f"reclaim_dead: {len(left)} objects of the killed group were not reclaimed")
    return out


def reclaim_create(shm_ops, preload, size):
    """What tagging adds to creating an object: `shm_ops sem-open` and `shm-open` (create, close, unlink; `size`
    of each per round) with the reclaim off and on, interleaved."""
    out = {}
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"} | {"LD_PRELOAD": preload}
    for i in range(2):
        for reclaim in ("0", "1")[i:] + ("0", "1")[:i]:
            for bench, metric in (("sem-open", "sem_open_us"), ("shm-open", "shm_open_us")):
                proc = subprocess.run([shm_ops, bench, str(size)], env=env | {"SHM_REDIRECT_RECLAIM": reclaim},
                                      capture_output=True, text=True, check=True)
                values = json.loads(proc.stdout)[metric]
                key = f"create_{bench.split('-')[0]}_{'on' if reclaim == '1' else 'off'}"
                out.setdefault(key, []).extend(values)
    return out


def holding_group(shm_ops, preload, count, leaderless):
    """A live group holding `count` segments and `count` semaphores (`shm_ops objects`); with `leaderless` its
    leader (a shell) has exited, so a reclaim must look at /proc to tell it from a group of zombies."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"} | {"LD_PRELOAD": preload}
    script = '"$0" objects "$1" | { read -r line; echo "$line"; cat >/dev/null; } &' if leaderless else \
        'exec "$0" objects "$1"'
    proc = subprocess.Popen(["/bin/sh", "-c", script, shm_ops, str(count)], env=env, start_new_session=True,
                            stdout=subprocess.PIPE)
    if proc.stdout.readline() != b"ready\n":
        raise SystemExit("reclaim_crowded: shm_ops objects did not get ready")
    if leaderless:
        proc.wait()
    return proc


def dead_owner(shm_ops, preload):
    """A group that owned one object and is gone: the registry then asks the next new group to scan."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"} | {"LD_PRELOAD": preload}
    maker = subprocess.Popen([shm_ops, "objects", "1"], env=env, stdout=subprocess.PIPE, start_new_session=True)
    if maker.stdout.readline() != b"ready\n":
        raise SystemExit("reclaim_crowded: shm_ops objects 1 did not get ready")
    os.killpg(maker.pid, 9)
    maker.wait()


def reclaim_crowded(shm_ops, preload, size):
    """A new group's first use in a crowded directory: 50,000 segments + 50,000 semaphores of one live group
    ("live100k"), then 40 live groups whose leaders have exited holding 50 + 50 each ("groups40"). For each,
    `size` launches of a new group with the reclaim off, on, and on right after a group that owned one object
    died (so that the registry asks for a scan of the directory), interleaved."""
    lead_own_group()
    out = {}
    for scene in ("live100k", "groups40"):
        holders = [holding_group(shm_ops, preload, 50000, False)] if scene == "live100k" else \
            [holding_group(shm_ops, preload, 50, True) for _ in range(40)]
        launch_first_use(shm_ops, preload, "leader")  # whatever was left before
        for i in range(size):
            for state in ("off", "on", "dead")[i % 3:] + ("off", "on", "dead")[:i % 3]:
                if state == "dead":
                    dead_owner(shm_ops, preload)
                wall, cpu = launch_first_use(shm_ops, preload, "off" if state == "off" else "leader")
                out.setdefault(f"crowded_{scene}_{state}", []).append(wall)
                out.setdefault(f"crowded_{scene}_{state}_cpu", []).append(cpu)
        for proc in holders:
            os.killpg(proc.pid, 9)
            proc.wait()
        time.sleep(0.2)
        launch_first_use(shm_ops, preload, "leader")
    return out


RECLAIM_WORKLOADS = {"reclaim_first_use": reclaim_first_use, "reclaim_instructions": reclaim_instructions,
                     "reclaim_dead": reclaim_dead, "reclaim_create": reclaim_create, "reclaim_crowded": reclaim_crowded}


POOL_WORKLOADS = {"pool_start", "pool_map", "pool_imbalanced"}


def instructions(metric, preload, size):
    """User-space instructions of one start-up, counted by callgrind: the same from run to run
    whatever else the machine does, which wall time on a busy machine is not. `size` must be 1."""
    if size != 1:
        raise SystemExit(f"{metric}: instruction counts are deterministic; run it once (size 1)")
    # A fixed hash seed: randomised string hashing alone moves the count by a few tenths of a percent.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"} | {"PYTHONHASHSEED": "0"}
    if preload:
        env["LD_PRELOAD"] = preload
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
            *STARTUP_COMMANDS[metric.replace("instructions", "startup")]]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True)
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or not found:
        raise SystemExit(f"{metric}: {' '.join(argv)} failed (exit {proc.returncode}):\n{proc.stderr}")
    return {metric: int(found.group(1))}


WORKLOADS = {
    "pool_start": pool_start,
    "pool_map": pool_map,
    "pool_imbalanced": pool_imbalanced,
    "queue_pipeline": queue_pipeline,
    "shared_memory": shared_memory_bw,
    "py_lock": py_lock,
    "py_pingpong": py_pingpong,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", choices=["stdlib", "lmp"], default="stdlib",
                        help="Pool implementation: the standard library's or lambda-multiprocessing's")
    parser.add_argument("--preload", default="", help="LD_PRELOAD for the start-up workloads' children")
    parser.add_argument("--shm-ops", default="", help="bench/shm_ops, for the reclaim workloads")
    parser.add_argument("workload",
                        choices=sorted([*WORKLOADS, *STARTUP_COMMANDS, *INSTRUCTION_COUNTS, *RECLAIM_WORKLOADS]))
    parser.add_argument("size", type=int)
    args = parser.parse_args()
    if args.size <= 0:
        parser.error("size must be a positive integer")
    if args.impl == "lmp" and args.workload not in POOL_WORKLOADS:
        parser.error(f"--impl lmp applies only to {', '.join(sorted(POOL_WORKLOADS))}")
    preloaded = {*STARTUP_COMMANDS, *INSTRUCTION_COUNTS, *RECLAIM_WORKLOADS}
    if args.preload and args.workload not in preloaded:
        parser.error(f"--preload applies only to {', '.join(sorted(preloaded))}")
    if args.workload in RECLAIM_WORKLOADS and not (args.preload and args.shm_ops):
        parser.error(f"{args.workload} needs --preload and --shm-ops")
    if args.workload in RECLAIM_WORKLOADS:
        result = RECLAIM_WORKLOADS[args.workload](args.shm_ops, args.preload, args.size)
    elif args.workload in STARTUP_COMMANDS:
        result = startup(args.workload, args.preload, args.size)
    elif args.workload in INSTRUCTION_COUNTS:
        result = instructions(args.workload, args.preload, args.size)
    else:
        result = WORKLOADS[args.workload](args.impl, args.size)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
