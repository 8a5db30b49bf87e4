"""The release's provenance: an in-toto statement (https://in-toto.io/Statement/v1) with a SLSA provenance v1
predicate, written by release/build.sh into dist/provenance.intoto.json.

  subject              every file of dist/ (but this one, the notes and SHA256SUMS), and each layer zip's
                       lib/shm_redirect.so, with sha256
  externalParameters   the versions, the repository, the commit and the tag it was built from
  internalParameters   per architecture: the compiler (path, --version, the Debian package and version that
                       provides it, and those of glibc's headers and binutils), the exact command line
                       layer/build.sh ran (recorded by release/record-cc.sh), the GLIBC_ versions the library
                       needs and the floor layer/audit.sh enforces
  resolvedDependencies the library's sources (layer/src, build.sh, exports.txt, VERSION) with sha256, and the
                       git commit
  runDetails           who built it (GitHub Actions' run when GITHUB_RUN_ID is set, else this host)

No wall-clock time: the times written are the commit's, so the same commit gives the same provenance."""
import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import zipfile

GLIBC_FLOOR = '2.26'  # layer/audit.sh fails any GLIBC_ version above it
TRIPLES = {'x86_64': 'x86_64-linux-gnu', 'arm64': 'aarch64-linux-gnu'}


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def file_sha256(path):
    with open(path, 'rb') as f:
        return sha256(f.read())


def debian_package_of(path):
    """'gcc-12 12.2.0-14' for a file dpkg knows, else None (another distribution, a compiler of one's own)."""
    if not shutil.which('dpkg-query'):
        return None
    try:
        owner = run('dpkg-query', '-S', path).split(':')[0]
        return '%s %s' % (owner, run('dpkg-query', '-W', '-f', '${Version}', owner))
    except subprocess.CalledProcessError:
        return None


def debian_version(package):
    try:
        return '%s %s' % (package, run('dpkg-query', '-W', '-f', '${Version}', package))
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None


def compiler_invocations(log):
    with open(log) as f:
        calls = f.read().split('--end--\n')
    return [call.splitlines() for call in calls if call]


def library_command(log, repo, work):
    """The command line that linked shm_redirect.so, with this build's directories written as placeholders."""
    [argv] = [a for a in compiler_invocations(log) if any(x.endswith('/shm_redirect.so.tmp') for x in a)]
    out = []
    for arg in argv:
        arg = arg.replace(os.path.join(repo, 'layer'), '<layer>').replace(work, '<work>')
        out.append(re.sub(r'<work>/lib/[a-z0-9_]+/', '<out>/', arg))
    return out


def glibc_versions_needed(library):
    versions = set(re.findall(r'Name: (GLIBC_[0-9.]+)', run('readelf', '-VW', library)))
    return sorted(versions, key=lambda v: [int(x) for x in v[6:].split('.')])


def compiler(arch, work, repo):
    real = open(os.path.join(work, 'cc-%s.real' % arch)).read().strip()
    path = os.path.realpath(shutil.which(real))
    ld = os.path.realpath(shutil.which(run(real, '-print-prog-name=ld').strip()) or '')
    native = {'x86_64': 'x86_64', 'aarch64': 'arm64'}.get(os.uname().machine)
    headers = 'libc6-dev' if arch == native else 'libc6-dev-%s-cross' % {'x86_64': 'amd64', 'arm64': 'arm64'}[arch]
    library = os.path.join(work, 'lib', arch, 'shm_redirect.so')
    return {
        'command': real,
        'path': path,
        'version': run(real, '--version').splitlines()[0],
        'package': debian_package_of(path),
        'linker': {'path': ld, 'version': run(ld, '--version').splitlines()[0], 'package': debian_package_of(ld)},
        'glibcHeaders': debian_version(headers),
        'buildCommand': 'sh layer/build.sh --arch %s --werror --out <out>' % arch,
        'compilerCommand': library_command(os.path.join(work, 'cc-%s.log' % arch), repo, work),
        'glibcVersionsNeeded': glibc_versions_needed(library),
        'glibcFloor': 'GLIBC_' + GLIBC_FLOOR,
        'targetTriple': TRIPLES[arch],
    }


def subjects(dist):
    found = []
    for root, _, files in os.walk(dist):
        for name in files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, dist)
            if rel in ('provenance.intoto.json', 'RELEASE_NOTES.md', 'SHA256SUMS'):
                continue
            found.append({'name': rel, 'digest': {'sha256': file_sha256(path)}})
            if rel.startswith('layer/') and rel.endswith('.zip'):
                with zipfile.ZipFile(path) as z:
                    data = z.read('lib/shm_redirect.so')
                found.append({'name': rel + '!lib/shm_redirect.so', 'digest': {'sha256': sha256(data)}})
    return sorted(found, key=lambda s: s['name'])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work', required=True, help='release/build.sh work directory (libraries, compiler logs)')
    parser.add_argument('--out', required=True)
    parser.add_argument('--dist', default='dist')
    args = parser.parse_args()
    repo = run('git', 'rev-parse', '--show-toplevel').strip()
    work = os.path.realpath(args.work)
    commit = run('git', 'rev-parse', 'HEAD').strip()
    epoch = int(run('git', 'log', '-1', '--format=%ct').strip())
    when = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    tags = run('git', 'tag', '--points-at', 'HEAD').split()
    package = json.load(open(os.path.join(repo, 'package.json')))
    sources = run('git', 'ls-files', 'layer/src', 'layer/build.sh', 'layer/exports.txt', 'layer/VERSION').split()
    server = os.environ.get('GITHUB_SERVER_URL')
    builder = ('%s/%s/actions/runs/%s' % (server, os.environ['GITHUB_REPOSITORY'], os.environ['GITHUB_RUN_ID'])
               if server and os.environ.get('GITHUB_RUN_ID') else 'local:' + os.uname().nodename)
    statement = {
        '_type': 'https://in-toto.io/Statement/v1',
        'subject': subjects(args.dist),
        'predicateType': 'https://slsa.dev/provenance/v1',
        'predicate': {
            'buildDefinition': {
                'buildType': 'https://github.com/cdk-lambda-multiprocessing/cdk-lambda-multiprocessing/blob/main/docs/releasing.md',
                'externalParameters': {
                    'packageVersion': open(os.path.join(repo, 'VERSION')).read().strip(),
                    'libraryVersion': open(os.path.join(repo, 'layer', 'VERSION')).read().strip(),
                    'repository': package['repository']['url'],
                    'commit': commit,
                    'tags': tags,
                    'command': 'bash release/build.sh',
                },
                'internalParameters': {
                    'library': {arch: compiler(arch, work, repo) for arch in ('x86_64', 'arm64')},
                    'host': '%s %s' % (os.uname().sysname, os.uname().machine),
                    'node': run('node', '--version').strip(),
                },
                'resolvedDependencies': [
                    {'uri': 'git+%s@%s' % (package['repository']['url'], commit), 'digest': {'gitCommit': commit}},
                ] + [{'name': s, 'digest': {'sha256': file_sha256(os.path.join(repo, s))}} for s in sources],
            },
            'runDetails': {
                'builder': {'id': builder},
                'metadata': {'startedOn': when, 'finishedOn': when, 'note': 'times are the commit time'},
            },
        },
    }
    with open(args.out, 'w') as f:
        json.dump(statement, f, indent=2, sort_keys=True)
        f.write('\n')


if __name__ == '__main__':
    main()
