#!/usr/bin/env python3
"""The README's table of what the tests ran each Lambda runtime on, made from the runs themselves.

    runtime_table.py rows --stage NAME RESULTS.json...     prints the table's rows for these results
    runtime_table.py check --stage NAME RESULTS.json...    fails unless README.md's table has exactly them

RESULTS.json is what `invoker.py run --json` writes. Each example function reports the Python and glibc it ran
on (examples/functions/report.py); a row is one runtime and architecture: that Python, that glibc, and how
(the platform the invoker chose, the stage). Only runtimes the results cover are checked: each stage checks
its own rows. In CI (CI=true) the Python versions must match to the patch release; elsewhere a machine's own
pyenv patch release may differ, so major.minor must.
"""
import argparse
import json
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(REPO, 'README.md')
BEGIN, END = '<!-- runtime-table: begin -->', '<!-- runtime-table: end -->'
HEADER = ['| Lambda runtime | architecture | tested on Python | glibc | how (stage) |',
          '|---|---|---|---|---|']


def _sort_key(runtime_arch):
    runtime, arch = runtime_arch
    return [int(x) for x in re.findall(r'\d+', runtime)], arch


def rows(records, stage):
    """One row per (runtime, arch) of the fixed functions that passed; the runs of one pair must agree."""
    seen = {}
    for r in records:
        if r.get('status') != 'ok' or not r.get('fixed'):
            continue
        payload = r.get('payload') or {}
        libc = str(payload.get('libc', ''))
        if not payload.get('python') or not libc.startswith('glibc '):
            raise SystemExit('runtime_table: %s reported no Python or glibc: %r' % (r.get('path'), payload))
        where = (payload['python'], libc[len('glibc '):], r['platform'])
        key = (r['runtime'], r['arch'])
        if seen.setdefault(key, where) != where:
            raise SystemExit('runtime_table: %s %s ran on both %r and %r' % (key + (seen[key], where)))
    return {key: '| %s | %s | %s | %s | %s; example functions through aws-lambda-rie (`%s`) |'
            % (key + where + (stage,)) for key, where in sorted(seen.items(), key=lambda kv: _sort_key(kv[0]))}


def readme_rows(text):
    if BEGIN not in text or END not in text:
        raise SystemExit('runtime_table: README.md has no %s ... %s section' % (BEGIN, END))
    table = text.split(BEGIN, 1)[1].split(END, 1)[0]
    found = {}
    for line in table.strip().splitlines()[len(HEADER):]:
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        found[(cells[0], cells[1])] = line.strip()
    return found


def _loose(row):
    """The row with every version cut to major.minor (a host Python's is also in the platform's name)."""
    return re.sub(r'(\d+\.\d+)\.\d+', r'\1', row)


def check(wanted, found, exact):
    problems = []
    for key, row in wanted.items():
        have = found.get(key)
        same = have == row if exact else have is not None and _loose(have) == _loose(row)
        if not same:
            problems.append('README.md says:  %s\n  the run gives: %s' % (have or '(no row for %s %s)' % key, row))
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', choices=['rows', 'check'])
    parser.add_argument('--stage', required=True, help='the run-all stage that ran these (shown in the table)')
    parser.add_argument('results', nargs='+')
    args = parser.parse_args(argv)
    records = []
    for path in args.results:
        with open(path) as f:
            records += json.load(f)
    wanted = rows(records, args.stage)
    if not wanted:
        print('runtime_table: no function with the fix passed in %s: no row to check' % ' '.join(args.results))
        return 0
    if args.command == 'rows':
        print('\n'.join(wanted.values()))
        return 0
    with open(README) as f:
        found = readme_rows(f.read())
    problems = check(wanted, found, exact=os.environ.get('CI') == 'true')
    if problems:
        print('runtime_table: README.md\'s runtime table does not match what ran; put these rows in it:',
              file=sys.stderr)
        print('\n'.join(problems), file=sys.stderr)
        return 1
    print('runtime_table: README.md matches what ran for %s' % ', '.join('%s %s' % k for k in wanted))
    return 0


if __name__ == '__main__':
    sys.exit(main())
