#!/usr/bin/env python3
"""Verifies (or with --update rewrites) the snapshots of the integ-runner tests, test/integration/integ.*.ts, offline.

integ-runner does this itself when it can read the cloud assembly, but the newest release reachable here
(2.197.x) reads schema 53 at most while aws-cdk-lib 2.276 writes 55 (docs/integration.md). The comparison is
the one integ-runner makes by default: the stack templates and the test manifest, asset hashes and the assertions'
salts masked (a change to the C library or a handler is not a change of the test).

    snapshot.py [--update] [TEST.ts ...]     default: every test/integration/integ.*.ts
"""
import argparse
import difflib
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
ASSET_HASH = re.compile(r'\b[0-9a-f]{64}\b')
# integ-tests-alpha salts each assertion with the synth time so that it reruns on every deployment.
SALT = re.compile(r'"salt": "[0-9]+"')
# What a snapshot holds: what integ-runner compares. Asset directories and asset manifests are left out.
KEPT = re.compile(r'^(.*\.template\.json|integ\.json|manifest\.json)$')


def synth(test, outdir):
    env = dict(os.environ, CDK_OUTDIR=outdir)
    cmd = ['npx', 'ts-node', '--prefer-ts-exts', test]
    proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    if proc.returncode != 0:
        raise SystemExit('snapshot: synth of %s failed:\n%s' % (test, proc.stdout))


def normalized(path):
    with open(path) as f:
        text = json.dumps(json.load(f), indent=1, sort_keys=True)
    return SALT.sub('"salt": "<time>"', ASSET_HASH.sub('<asset-hash>', text))


def snapshot_files(directory):
    return sorted(n for n in os.listdir(directory) if KEPT.match(n)) if os.path.isdir(directory) else []


def compare(fresh, snapshot):
    """Returns the differences between a fresh synth and a snapshot, as unified diffs."""
    problems = []
    names = sorted(set(snapshot_files(fresh)) | set(snapshot_files(snapshot)))
    for name in names:
        a, b = os.path.join(snapshot, name), os.path.join(fresh, name)
        if not os.path.exists(a):
            problems.append('%s: new in the synth, not in the snapshot' % name)
        elif not os.path.exists(b):
            problems.append('%s: in the snapshot, no longer synthesized' % name)
        elif name != 'manifest.json' and normalized(a) != normalized(b):
            diff = difflib.unified_diff(normalized(a).splitlines(), normalized(b).splitlines(),
                                        'snapshot/' + name, 'synth/' + name, lineterm='', n=2)
            problems.append('\n'.join(diff))
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--update', action='store_true', help='rewrite the snapshots from a fresh synth')
    parser.add_argument('tests', nargs='*', help='integ test files (default: test/integration/integ.*.ts)')
    args = parser.parse_args(argv)
    tests = args.tests or sorted(os.path.relpath(p, REPO) for p in glob.glob(os.path.join(REPO, 'test', 'integration', 'integ.*.ts')))
    if not tests:
        raise SystemExit('snapshot: no test/integration/integ.*.ts found')
    failed = 0
    for test in tests:
        snapshot = os.path.join(REPO, test + '.snapshot')
        with tempfile.TemporaryDirectory(prefix='integ-snapshot-') as fresh:
            synth(test, fresh)
            if args.update:
                shutil.rmtree(snapshot, ignore_errors=True)
                os.makedirs(snapshot)
                for name in snapshot_files(fresh):
                    shutil.copy(os.path.join(fresh, name), os.path.join(snapshot, name))
                print('updated %s' % os.path.relpath(snapshot, REPO))
                continue
            if not os.path.isdir(snapshot):
                problems = ['no snapshot: run `npx projen integ:snapshot --update` and commit it']
            else:
                problems = compare(fresh, snapshot)
        failed += bool(problems)
        print('%s %s' % ('FAILED' if problems else 'ok    ', test))
        for p in problems:
            print('  ' + p.replace('\n', '\n  '))
    if not args.update:
        print('%d passed, %d failed' % (len(tests) - failed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
