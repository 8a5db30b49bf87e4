#include "virtual_root.h"

#include "shm_dir.h"
#include "sys.h"

#include <errno.h>
#include <unistd.h>

/* The redirect directory's owner and group; -1 (errno set) when it cannot
   be examined. */
static int owner(uid_t *uid, gid_t *gid)
{
    struct stat st;
    if (sys_fstat(shm_dir_fd(), &st) != 0) {
        errno = ENOENT;
        return -1;
    }
    *uid = st.st_uid;
    *gid = st.st_gid;
    return 0;
}

static int eperm(void)
{
    errno = EPERM;
    return -1;
}

int virtual_root_chmod(void)
{
    uid_t uid;
    gid_t gid;
    if (owner(&uid, &gid) != 0)
        return -1;
    uid_t self = geteuid();
    return self == 0 || self == uid ? 0 : eperm();
}

/* GID is the caller's effective or a supplementary group. */
static int member(gid_t gid)
{
    if (gid == getegid())
        return 1;
    gid_t groups[256];
    int n = getgroups(256, groups);
    for (int i = 0; i < n; i++)
        if (groups[i] == gid)
            return 1;
    return 0;
}

int virtual_root_chown(uid_t to_uid, gid_t to_gid)
{
    uid_t uid;
    gid_t gid;
    if (owner(&uid, &gid) != 0)
        return -1;
    uid_t self = geteuid();
    if (self == 0)
        return 0;
    /* The owner may keep the owner and pick one of its groups; nothing else. */
    if (self != uid || (to_uid != (uid_t)-1 && to_uid != uid))
        return eperm();
    if (to_gid != (gid_t)-1 && to_gid != gid && !member(to_gid))
        return eperm();
    return 0;
}
