#ifndef SHMR_DIRSCAN_H
#define SHMR_DIRSCAN_H

/* Calls FN for each entry of the open directory FD but "." and "..", with
   the entry's d_type (DT_UNKNOWN where the file system does not say),
   until FN returns non-zero.  Raw getdents64: opendir is one of the
   library's own interposers.  Returns FN's non-zero value, 0 at the end of
   the directory, -1 with errno when reading it fails. */
int dirscan(int fd, int (*fn)(void *ctx, const char *name, unsigned char type), void *ctx);

#endif
