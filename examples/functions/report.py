"""What every handler adds to its result, so that a report says where it really ran."""
import platform


def environment():
    libc, libc_version = platform.libc_ver()
    return {'python': platform.python_version(), 'machine': platform.machine(),
            'libc': '%s %s' % (libc, libc_version)}
