"""Turns one of the README's quick starts into a bash script, mechanically, so the README and the test cannot
drift.

A quick start is every fenced block preceded by a `<!-- quickstart: NAMES -->` line naming it, in the order of
the README. A `sh` block is run as it is; any other block is a file, written to the path that the last text
line before its fence names as "`PATH`:". The one change: the argument `cdk-lambda-multiprocessing` of an
`npm install` or `pip install` line becomes --package (the tarball or wheel under test), since the package
is not fetched from a registry here.

usage: extract.py README NAME --package SPEC > script.sh
"""
import argparse
import re
import shlex
import sys

MARKER = re.compile(r"^<!-- quickstart: ([\w ]+) -->$")
FENCE = re.compile(r"^```(\w*)$")
FILE_LABEL = re.compile(r"`([^`\s]+)`:\s*$")
PACKAGE = re.compile(r"(?<![\w@/.-])cdk-lambda-multiprocessing(?![\w@/.-])")
INSTALL = re.compile(r"^\s*(npm|pip) install\b")
END = "QUICKSTART_EOF"


def blocks(lines, name):
    """(language, path or None, body lines) of each block of quick start `name`."""
    i = 0
    while i < len(lines):
        marker = MARKER.match(lines[i])
        i += 1
        if not marker or name not in marker.group(1).split():
            continue
        path = None
        while i < len(lines) and not FENCE.match(lines[i]):
            if MARKER.match(lines[i]):
                sys.exit(f"extract: line {i + 1}: a quickstart marker with no block after it")
            label = FILE_LABEL.search(lines[i])
            if label:
                path = label.group(1)
            i += 1
        if i == len(lines):
            sys.exit("extract: the last quickstart marker has no block after it")
        language = FENCE.match(lines[i]).group(1)
        start = i + 1
        i = start
        while i < len(lines) and lines[i] != "```":
            i += 1
        yield language, (None if language == "sh" else path), lines[start:i], start
        i += 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("readme")
    parser.add_argument("name")
    parser.add_argument("--package", required=True)
    args = parser.parse_args()
    with open(args.readme, encoding="utf-8") as f:
        lines = f.read().splitlines()

    script = ["set -euo pipefail"]
    replaced = 0
    for language, path, body, line in blocks(lines, args.name):
        if language == "sh":
            for command in body:
                if INSTALL.match(command):
                    command, n = PACKAGE.subn(shlex.quote(args.package), command)
                    replaced += n
                script.append(f"echo {shlex.quote('quickstart$ ' + command)}")
                script.append(command)
        elif path is None:
            sys.exit(f"extract: README line {line}: a ```{language} block of quick start {args.name} names no file (a line ending in `PATH`: before it)")
        else:
            if any(text == END for text in body):
                sys.exit(f"extract: README line {line}: the block holds {END}")
            script.append(f"echo {shlex.quote(f'quickstart: writing {path} ({len(body)} lines)')}")
            script.append(f"mkdir -p \"$(dirname {shlex.quote(path)})\"")
            script.append(f"cat > {shlex.quote(path)} <<'{END}'")
            script.extend(body)
            script.append(END)
    if len(script) == 1:
        sys.exit(f"extract: no <!-- quickstart: {args.name} --> blocks in {args.readme}")
    if replaced != 1:
        sys.exit(f"extract: quick start {args.name} installs cdk-lambda-multiprocessing {replaced} times; expected one npm or pip install of it")
    print("\n".join(script))


main()
