// POSIX_SPAWN_SETSID is a GNU extension of <spawn.h> (glibc 2.26 and later), declared only with _GNU_SOURCE. It is
// read here, in a file of its own, because a header that defined _GNU_SOURCE would give Swift a second, different
// definition of glibc's types (fd_set's fields are named by the feature macros).
#define _GNU_SOURCE
#include <spawn.h>
#include "process_spawn.h"

const short ksand_spawn_setsid = POSIX_SPAWN_SETSID;

#include <sys/prctl.h>

int ksand_become_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL);
}
