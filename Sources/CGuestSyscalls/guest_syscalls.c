#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <linux/random.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "guest_syscalls.h"

int ksand_finit_module(int fd, const char *params, int flags) {
    return (int)syscall(SYS_finit_module, fd, params, flags);
}

int ksand_pidfd_open(int pid) {
#ifdef SYS_pidfd_open
    return (int)syscall(SYS_pidfd_open, pid, 0);
#else
    errno = ENOSYS;
    return -1;
#endif
}

void ksand_close_from(int first) {
#ifdef SYS_close_range
    if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0) return;
#endif
    long max = sysconf(_SC_OPEN_MAX);
    if (max < 0 || max > 65536) max = 65536;
    for (int fd = first; fd < max; fd++) close(fd);
}

int ksand_add_status_flags(int fd, int flags) {
    int current = fcntl(fd, F_GETFL);
    if (current < 0) return -1;
    return fcntl(fd, F_SETFL, current | flags);
}

int ksand_set_pipe_size(int fd, int size) {
    return fcntl(fd, F_SETPIPE_SZ, size);
}

int ksand_fd_is_open(int fd) {
    return fcntl(fd, F_GETFD) >= 0 || errno != EBADF;
}

int ksand_pipe2(int fds[2], int flags) {
    return pipe2(fds, flags);
}

int ksand_power_off(void) {
    return reboot(RB_POWER_OFF);
}

int ksand_restart(void) {
    return reboot(RB_AUTOBOOT);
}

int ksand_input_has_power_key(int fd) {
    unsigned long keys[KEY_MAX / (8 * sizeof(unsigned long)) + 1] = {0};
    if (ioctl(fd, EVIOCGBIT(EV_KEY, sizeof(keys)), keys) < 0) return 0;
    const unsigned long bits = 8 * sizeof(unsigned long);
    return (keys[KEY_POWER / bits] >> (KEY_POWER % bits)) & 1;
}

int ksand_input_read_power_press(int fd) {
    struct input_event events[16];
    int pressed = 0;
    for (;;) {
        ssize_t n = read(fd, events, sizeof(events));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 && errno != EAGAIN ? -1 : pressed;
        for (size_t i = 0; i < (size_t)n / sizeof(events[0]); i++) {
            if (events[i].type == EV_KEY && events[i].code == KEY_POWER && events[i].value == 1) pressed = 1;
        }
    }
}

int ksand_add_entropy_and_reseed(const unsigned char *bytes, int length) {
    if (length < 0 || length > 4096) {
        errno = EINVAL;
        return -1;
    }
    int fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct {
        struct rand_pool_info info;
        unsigned char buffer[4096];
    } request;
    request.info.entropy_count = length * 8;
    request.info.buf_size = length;
    memcpy(request.buffer, bytes, (size_t)length);
    int result = ioctl(fd, RNDADDENTROPY, &request.info);
    if (result == 0) result = ioctl(fd, RNDRESEEDCRNG);
    int saved = errno;
    close(fd);
    errno = saved;
    return result;
}
