"""Writes a Lambda layer zip holding one shm_redirect.so at lib/shm_redirect.so (Lambda unpacks layers into
/opt, so the library lands at /opt/lib/shm_redirect.so, the path LD_PRELOAD names).

    python3 release/layer-zip.py LIBRARY OUT.zip

The same library gives the same zip bytes on any machine: entries in a fixed order, each with a fixed time
(1980-01-01, zip's epoch), fixed Unix modes and no extra fields, and stored rather than deflated, because
deflate's output depends on the zlib build (zlib-ng, for one, compresses differently)."""
import sys
import zipfile

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
LIBRARY_PATH_IN_LAYER = 'lib/shm_redirect.so'


def entry(name, mode):
    info = zipfile.ZipInfo(name, FIXED_TIME)
    info.create_system = 3  # Unix, so that the modes below are read
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_STORED
    return info


def main(library, out):
    with open(library, 'rb') as f:
        data = f.read()
    if data[:4] != b'\x7fELF':
        sys.exit('layer-zip: %s is not an ELF file' % library)
    with zipfile.ZipFile(out, 'w') as z:
        z.writestr(entry('lib/', 0o040755), b'')
        z.writestr(entry(LIBRARY_PATH_IN_LAYER, 0o100755), data)


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit('usage: python3 release/layer-zip.py LIBRARY OUT.zip')
    main(*sys.argv[1:])
