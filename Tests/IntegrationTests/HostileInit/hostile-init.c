/*
 * A hostile guest init for ksand's tests: it stands in for ksand-init (KSAND_INIT=this) and misbehaves on the
 * command channel or the console in the way `ksand.hostile=MODE` on the kernel command line names. Built static
 * by the tests (gcc -static), run as /init by the sandbox kernel, which has the virtio console built in.
 *
 * Modes: huge-length, unknown-kind, truncated, bad-exit, hello-flood, stdout-flood, console-flood,
 * exit-then-flood, escape-failure.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

enum { HELLO = 0x01, STDOUT = 0x02, EXIT = 0x04, FAILURE = 0x05 };

static void say(const char *text) {
    int fd = open("/dev/kmsg", O_WRONLY);
    if (fd >= 0) { dprintf(fd, "hostile-init: %s\n", text); close(fd); }
}

static void write_all(int fd, const void *data, size_t size) {
    const uint8_t *bytes = data;
    while (size > 0) {
        ssize_t n = write(fd, bytes, size);
        if (n <= 0) { usleep(1000); continue; }
        bytes += n;
        size -= (size_t)n;
    }
}

static void header(int fd, uint8_t kind, uint32_t length) {
    uint8_t bytes[5] = { kind, length & 0xff, (length >> 8) & 0xff, (length >> 16) & 0xff, length >> 24 };
    write_all(fd, bytes, sizeof bytes);
}

static void frame(int fd, uint8_t kind, const void *payload, uint32_t length) {
    header(fd, kind, length);
    write_all(fd, payload, length);
}

static void hello(int fd) {
    uint8_t payload[2] = { 1, 0 };  /* protocol version 1, no power button */
    frame(fd, HELLO, payload, sizeof payload);
}

/* The virtio-serial port named org.ksand.ctl, as /dev/vportNpM. */
static int open_port(void) {
    for (int attempt = 0; attempt < 10000; attempt++) {
        DIR *ports = opendir("/sys/class/virtio-ports");
        struct dirent *entry;
        while (ports && (entry = readdir(ports))) {
            char path[512], name[64] = { 0 };
            snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", entry->d_name);
            int fd = open(path, O_RDONLY);
            if (fd < 0) continue;
            ssize_t n = read(fd, name, sizeof name - 1);
            close(fd);
            if (n > 0 && strncmp(name, "org.ksand.ctl", 13) == 0) {
                snprintf(path, sizeof path, "/dev/%s", entry->d_name);
                closedir(ports);
                return open(path, O_RDWR);
            }
        }
        if (ports) closedir(ports);
        usleep(1000);
    }
    return -1;
}

static void mode_from_cmdline(char *mode, size_t size) {
    char line[4096] = { 0 };
    int fd = open("/proc/cmdline", O_RDONLY);
    if (fd >= 0) { read(fd, line, sizeof line - 1); close(fd); }
    const char *key = strstr(line, "ksand.hostile=");
    mode[0] = 0;
    if (key) sscanf(key + strlen("ksand.hostile="), "%63s", mode);
    (void)size;
}

static void flood_console(void) {
    int console = open("/dev/console", O_WRONLY | O_NOCTTY);
    char line[128];
    for (unsigned long n = 0;; n++) {
        int length = snprintf(line, sizeof line, "flood %lu: the hostile init keeps the console busy\n", n);
        write_all(console, line, (size_t)length);
    }
}

int main(void) {
    mkdir("/dev", 0755); mkdir("/proc", 0555); mkdir("/sys", 0555);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    char mode[64];
    mode_from_cmdline(mode, sizeof mode);
    say(mode);
    int port = open_port();
    if (port < 0) { say("no command channel"); reboot(RB_POWER_OFF); }

    if (strcmp(mode, "escape-failure") == 0) {
        const char *text = "ksand-init: \x1b]0;pwned\x07\x1b[2J\x1b[31mred\x9b" "2J done";
        frame(port, FAILURE, text, (uint32_t)strlen(text));
        for (;;) pause();  /* and, unlike ksand-init, never power off */
    }
    hello(port);
    if (strcmp(mode, "huge-length") == 0) {
        header(port, STDOUT, 0xffffffffu);
    } else if (strcmp(mode, "unknown-kind") == 0) {
        frame(port, 0x7f, "x", 1);
    } else if (strcmp(mode, "truncated") == 0) {
        header(port, STDOUT, 100);
        write_all(port, "0123456789", 10);
        sleep(1);
        reboot(RB_POWER_OFF);
    } else if (strcmp(mode, "bad-exit") == 0) {
        uint8_t payload[5] = { 1, 0xff, 0xff, 0xff, 0x7f };  /* "signaled" by signal 0x7fffffff */
        frame(port, EXIT, payload, sizeof payload);
    } else if (strcmp(mode, "hello-flood") == 0) {
        for (;;) hello(port);
    } else if (strcmp(mode, "stdout-flood") == 0) {
        char chunk[4096];
        memset(chunk, 'y', sizeof chunk);
        for (;;) frame(port, STDOUT, chunk, sizeof chunk);
    } else if (strcmp(mode, "console-flood") == 0) {
        flood_console();
    } else if (strcmp(mode, "exit-then-flood") == 0) {
        uint8_t payload[5] = { 0, 0, 0, 0, 0 };  /* exited 0 */
        frame(port, EXIT, payload, sizeof payload);
        flood_console();
    }
    for (;;) pause();  /* never power off: ksand must stop the VM itself */
}
