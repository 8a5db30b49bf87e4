"""The multiprocessing suite only means something inside a Lambda-like sandbox with the library preloaded.

Run it through test/library/run-*.sh (or test/tools/lambda-sandbox.sh with LD_PRELOAD set). Outside such a
sandbox every test would pass for the wrong reason (a real /dev/shm), so the run refuses to start.
"""
import multiprocessing
import os
import shutil

import pytest

LAMBDA_DEV = {"null", "zero", "full", "random", "urandom", "stdin", "stdout", "stderr", "fd"}
LIBRARY = "shm_redirect.so"
START_METHODS = [m for m in ("fork", "spawn", "forkserver") if m in multiprocessing.get_all_start_methods()]
TIMEOUT = float(os.environ.get("CLM_TEST_TIMEOUT", "60"))


def glibc_version():
    name, version = os.confstr("CS_GNU_LIBC_VERSION").split()
    assert name == "glibc", name
    return tuple(int(part) for part in version.split(".")[:2])


def mounts():
    with open("/proc/self/mounts") as f:
        return [line.split()[1:3] for line in f]


def sandbox_problems():
    """Why this process is not in a Lambda-like environment with the library loaded (empty when it is)."""
    problems = []
    # The library may make /dev/shm itself look present, but it does not touch the listing of /dev.
    extra = set(os.listdir("/dev")) - LAMBDA_DEV
    if extra:
        problems.append("/dev holds more than Lambda's device nodes: %s" % ", ".join(sorted(extra)))
    table = mounts()
    for point, fstype in table:
        if point == "/tmp" and fstype == "tmpfs":
            problems.append("/tmp is a tmpfs (it is on disk on Lambda)")
        # glibc before 2.34 takes any tmpfs it finds in the mount table as its shm directory; one this user
        # cannot write only turns ENOSYS into EACCES (test/library/run-eacces.sh), so it hides nothing.
        if fstype == "tmpfs" and glibc_version() < (2, 34) and os.access(point, os.W_OK):
            problems.append("a tmpfs is mounted at %s, which glibc %d.%d would adopt" % ((point,) + glibc_version()))
    if LIBRARY not in os.environ.get("LD_PRELOAD", ""):
        problems.append("LD_PRELOAD does not name %s" % LIBRARY)
    with open("/proc/self/maps") as f:
        if LIBRARY not in f.read():
            problems.append("%s is not mapped into this process" % LIBRARY)
    return problems


def pytest_configure(config):
    problems = sandbox_problems()
    if problems:
        raise pytest.UsageError(
            "not a Lambda-like sandbox with the library preloaded:\n  " + "\n  ".join(problems)
            + "\nrun through test/library/run-host.sh (see docs/testing.md)"
        )


def pytest_report_header(config):
    return "sandbox: glibc %d.%d, start methods %s, LD_PRELOAD=%s" % (
        glibc_version() + (", ".join(START_METHODS), os.environ["LD_PRELOAD"])
    )


@pytest.fixture(params=START_METHODS)
def ctx(request):
    return multiprocessing.get_context(request.param)


@pytest.fixture
def directory(tmp_path):
    """A redirect directory of the test's own; its registry sits beside it."""
    shm = tmp_path / "shm"
    yield str(shm)
    for path in (shm, tmp_path / "shm.reclaim"):
        shutil.rmtree(str(path), ignore_errors=True)
