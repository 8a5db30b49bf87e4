"""runtime_table.py: rows from a run's records, and the README check (offline, no sandbox)."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import runtime_table  # noqa: E402


def record(runtime='python3.14', arch='x86_64', python='3.14.8', libc='glibc 2.43', status='ok', fixed=True,
           platform='Debian forky-amd64 rootfs, Python 3.14, glibc 2.43'):
    return {'path': 'S/F', 'runtime': runtime, 'arch': arch, 'fixed': fixed, 'status': status,
            'platform': platform, 'payload': {'python': python, 'libc': libc}}


ROW = ('| python3.14 | x86_64 | 3.14.8 | 2.43 | Debian forky-amd64 rootfs, Python 3.14, glibc 2.43; '
       'example functions through aws-lambda-rie (`forky`) |')


def readme(*rows):
    return '\n'.join(['text', runtime_table.BEGIN] + runtime_table.HEADER + list(rows) + [runtime_table.END, ''])


def test_a_row_per_runtime_and_architecture_from_what_the_functions_reported():
    rows = runtime_table.rows([record(), record(), record(arch='arm64', platform='P')], 'forky')
    assert rows[('python3.14', 'x86_64')] == ROW
    assert sorted(rows) == [('python3.14', 'arm64'), ('python3.14', 'x86_64')]


def test_failed_runs_and_functions_without_the_fix_make_no_row():
    assert runtime_table.rows([record(status='failed'), record(fixed=False)], 'forky') == {}


def test_two_platforms_for_one_runtime_are_an_error():
    with pytest.raises(SystemExit):
        runtime_table.rows([record(), record(python='3.14.9')], 'forky')


def test_the_check_compares_the_rows_a_run_covers():
    wanted = runtime_table.rows([record()], 'forky')
    other = '| python3.12 | x86_64 | 3.12.1 | 2.36 | host; example functions through aws-lambda-rie (`demo-full`) |'
    assert runtime_table.check(wanted, runtime_table.readme_rows(readme(other, ROW)), exact=True) == []
    stale = ROW.replace('3.14.8', '3.14.7')
    assert runtime_table.check(wanted, runtime_table.readme_rows(readme(stale)), exact=True)
    assert runtime_table.check(wanted, runtime_table.readme_rows(readme(other)), exact=True)


def test_outside_ci_a_patch_release_may_differ_but_not_the_minor_one():
    found = runtime_table.readme_rows(readme(ROW.replace('3.14.8', '3.14.7')))
    assert runtime_table.check(runtime_table.rows([record()], 'forky'), found, exact=False) == []
    found = runtime_table.readme_rows(readme(ROW.replace('| 3.14.8 |', '| 3.13.8 |')))
    assert runtime_table.check(runtime_table.rows([record()], 'forky'), found, exact=False)


def test_the_readme_has_the_table():
    with open(runtime_table.README) as f:
        rows = runtime_table.readme_rows(f.read())
    assert ('python3.14', 'x86_64') in rows
