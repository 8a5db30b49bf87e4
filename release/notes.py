"""The release notes (dist/RELEASE_NOTES.md): the changelog's entry for this version, the library's sha256 per
architecture (in the layer zip, the image and the npm package alike, as release/check.sh checks), the compiler
that made it, and how to check it by rebuilding from the tag (release/verify.sh, docs/releasing.md).

    python3 release/notes.py --provenance dist/provenance.intoto.json --out dist/RELEASE_NOTES.md"""
import argparse
import json
import re
import tarfile


def changelog_entry(version):
    """The CHANGELOG.md section '## VERSION ...' (release/cut.sh has renamed 'Unreleased' to it)."""
    text = open('CHANGELOG.md').read()
    match = re.search(r'^## %s\b.*?$\n(.*?)(?=^## |\Z)' % re.escape(version), text, re.M | re.S)
    if not match:
        raise SystemExit('release/notes: CHANGELOG.md has no "## %s" section (release/cut.sh writes it)' % version)
    return match.group(1).strip()


def image_digest(archive):
    """The digest of the image's index (the multi-arch tag), as a registry shows it after `skopeo copy --all`."""
    with tarfile.open(archive) as tar:
        return json.loads(tar.extractfile('index.json').read())['manifests'][0]['digest']


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--provenance', required=True)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    statement = json.load(open(args.provenance))
    build = statement['predicate']['buildDefinition']
    params = build['externalParameters']
    version, library, commit = params['packageVersion'], params['libraryVersion'], params['commit']
    digests = {s['name']: s['digest']['sha256'] for s in statement['subject']}
    lines = [
        '# cdk-lambda-multiprocessing %s' % version,
        '',
        'Packages %s (npm, PyPI, Maven, Go) with the library `shm_redirect.so` %s, built from commit `%s`.'
        % (version, library, commit),
        '',
        changelog_entry(version),
        '',
        '## The library',
        '',
        '| architecture | sha256 of `lib/shm_redirect.so` | layer zip | compiler | GLIBC_ versions needed |',
        '|---|---|---|---|---|',
    ]
    for arch, info in build['internalParameters']['library'].items():
        zip_name = 'layer/shm-redirect-%s-%s.zip' % (library, arch)
        lines.append('| %s | `%s` | `%s` (sha256 `%s`) | %s | up to %s (floor %s) |' % (
            arch, digests[zip_name + '!lib/shm_redirect.so'], zip_name.split('/')[1], digests[zip_name],
            info['package'] or info['version'], info['glibcVersionsNeeded'][-1], info['glibcFloor']))
    lines += [
        '',
        'The same bytes are in the layer zip, in the image `shm-redirect:%s` (both platforms) and in the packages\''
        ' prebuilt libraries. `dist/provenance.intoto.json` names the sources with their hashes and the exact'
        ' compiler command; `SHA256SUMS` covers every file of the release.' % library,
        '',
        'The image `shm-redirect:%s` (linux/amd64 and linux/arm64, `image/shm-redirect-%s.oci.tar`) has the index'
        ' digest `%s`.' % (library, library, image_digest('dist/image/shm-redirect-%s.oci.tar' % library)),
        '',
        '## Check it yourself',
        '',
        'The library is reproducible: the same sources and compiler give the same bytes. On Debian 12 (x86_64)'
        ' with `gcc`, `gcc-aarch64-linux-gnu`, `libc6-dev-arm64-cross` and `binutils`, from a clone of the'
        ' repository:',
        '',
        '```sh',
        'git checkout v%s' % version,
        'bash release/verify.sh RELEASE_NOTES.md   # or: sh layer/build.sh --arch x86_64 --werror --out /tmp/v'
        ' && sha256sum /tmp/v/shm_redirect.so',
        '```',
        '',
        '`release/verify.sh` rebuilds both libraries from `git archive` of the checked-out commit and compares'
        ' their sha256 with the table above (docs/releasing.md has the details and a podman recipe for'
        ' other hosts).',
        '',
    ]
    with open(args.out, 'w') as f:
        f.write('\n'.join(lines))


if __name__ == '__main__':
    main()
