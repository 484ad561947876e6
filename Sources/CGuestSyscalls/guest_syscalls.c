#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <linux/input.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
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

/// A datagram socket for interface ioctls, with `request` naming `name`.
static int interface_request(const char *name, struct ifreq *request) {
    if (strlen(name) >= IFNAMSIZ) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memset(request, 0, sizeof(*request));
    strncpy(request->ifr_name, name, IFNAMSIZ - 1);
    return socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

static int finish(int fd, int result) {
    int saved = errno;
    close(fd);
    errno = saved;
    return result;
}

int ksand_interface_up(const char *name) {
    struct ifreq request;
    int fd = interface_request(name, &request);
    if (fd < 0) return -1;
    if (ioctl(fd, SIOCGIFFLAGS, &request) < 0) return finish(fd, -1);
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    return finish(fd, ioctl(fd, SIOCSIFFLAGS, &request));
}

static int ipv4(const char *text, struct sockaddr *out) {
    struct sockaddr_in *address = (struct sockaddr_in *)out;
    memset(address, 0, sizeof(*address));
    address->sin_family = AF_INET;
    if (inet_pton(AF_INET, text, &address->sin_addr) != 1) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}

int ksand_interface_set_address(const char *name, const char *address, int prefix) {
    if (prefix < 0 || prefix > 32) {
        errno = EINVAL;
        return -1;
    }
    struct ifreq request;
    int fd = interface_request(name, &request);
    if (fd < 0) return -1;
    if (ipv4(address, &request.ifr_addr) < 0) return finish(fd, -1);
    if (ioctl(fd, SIOCSIFADDR, &request) < 0) return finish(fd, -1);
    struct sockaddr_in *mask = (struct sockaddr_in *)&request.ifr_netmask;
    memset(mask, 0, sizeof(*mask));
    mask->sin_family = AF_INET;
    mask->sin_addr.s_addr = htonl(prefix == 0 ? 0 : 0xffffffffu << (32 - prefix));
    return finish(fd, ioctl(fd, SIOCSIFNETMASK, &request));
}

int ksand_add_default_route(const char *gateway) {
    struct rtentry route;
    memset(&route, 0, sizeof(route));
    if (ipv4(gateway, &route.rt_gateway) < 0) return -1;
    ((struct sockaddr_in *)&route.rt_dst)->sin_family = AF_INET;
    ((struct sockaddr_in *)&route.rt_genmask)->sin_family = AF_INET;
    route.rt_flags = RTF_UP | RTF_GATEWAY;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    return finish(fd, ioctl(fd, SIOCADDRT, &route));
}
