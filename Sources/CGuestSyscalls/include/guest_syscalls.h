#ifndef KSAND_GUEST_SYSCALLS_H
#define KSAND_GUEST_SYSCALLS_H

/// Loads a kernel module from an open file descriptor (finit_module(2)). Returns 0, or -1 with errno set.
int ksand_finit_module(int fd, const char *params, int flags);

#endif
