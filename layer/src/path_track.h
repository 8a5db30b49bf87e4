#ifndef SHMR_PATH_TRACK_H
#define SHMR_PATH_TRACK_H

/* Files made or opened through the path calls under the virtual /dev/shm
   (joblib's memmapping folders, pandarallel's files) follow the objects'
   rule: in use while open or mapped (in_use.h), and recorded as their
   group's by their top-level entry (record.h).  P is the rewritten path;
   paths outside the redirect directory are left alone. */

/* Before a path call that may make P (an open with O_CREAT, a mkdir): a
   top-level entry is recorded pending (record.h), so that a creator killed
   inside the call leaves it recorded. */
void path_making(const char *p);

/* After an open through a path call, started at STARTED (in_use_clock),
   returned FD (or -1) with FLAGS: 1 keeps FD; 0 when a reclaim removed the
   file while the open waited (the caller closes FD and opens again). */
int path_opened(const char *p, int fd, int flags, long long started);

/* After a path call that may have made P (a file or a directory): MADE,
   its top-level entry is recorded; else the pending entry goes. */
void path_made(const char *p, int made);

#endif
