#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>
#include "guest_syscalls.h"

int ksand_finit_module(int fd, const char *params, int flags) {
    return (int)syscall(SYS_finit_module, fd, params, flags);
}
