#ifndef KSAND_PROCESS_SPAWN_H
#define KSAND_PROCESS_SPAWN_H

/// POSIX_SPAWN_SETSID: the posix_spawn flag that has the child call setsid() before exec, so that it runs in a
/// session of its own, with no controlling terminal.
extern const short ksand_spawn_setsid;

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants of this process become its children instead of init's.
/// prctl is variadic, which Swift cannot call. Returns 0, or -1 with errno set.
int ksand_become_child_subreaper(void);

#endif
