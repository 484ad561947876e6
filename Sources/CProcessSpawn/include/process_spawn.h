#ifndef KSAND_PROCESS_SPAWN_H
#define KSAND_PROCESS_SPAWN_H

/// POSIX_SPAWN_SETSID: the posix_spawn flag that has the child call setsid() before exec, so that it runs in a
/// session of its own, with no controlling terminal.
extern const short ksand_spawn_setsid;

#endif
