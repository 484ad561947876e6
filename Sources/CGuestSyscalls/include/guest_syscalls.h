#ifndef KSAND_GUEST_SYSCALLS_H
#define KSAND_GUEST_SYSCALLS_H

/// Loads a kernel module from an open file descriptor (finit_module(2)). Returns 0, or -1 with errno set.
int ksand_finit_module(int fd, const char *params, int flags);

/// A file descriptor that becomes readable when process `pid` exits (pidfd_open(2)). Returns -1 with errno set.
int ksand_pidfd_open(int pid);

/// Closes every file descriptor from `first` upwards (close_range(2), with a loop as fallback).
void ksand_close_from(int first);

/// Sets the file status flags (fcntl(F_SETFL)) after adding `flags` to the current ones. Returns -1 with errno set.
int ksand_add_status_flags(int fd, int flags);

/// Resizes a pipe's buffer (fcntl(F_SETPIPE_SZ)). Returns the new size, or -1 with errno set.
int ksand_set_pipe_size(int fd, int size);

/// Whether `fd` is an open file descriptor.
int ksand_fd_is_open(int fd);

/// pipe2(2): a pipe whose descriptors get `flags` (O_CLOEXEC, O_NONBLOCK). Returns -1 with errno set.
int ksand_pipe2(int fds[2], int flags);

/// reboot(2) with RB_POWER_OFF. Returns only on failure (-1 with errno set).
int ksand_power_off(void);

/// reboot(2) with RB_AUTOBOOT. Returns only on failure (-1 with errno set).
int ksand_restart(void);

/// Whether the evdev device open at `fd` can report KEY_POWER (the ACPI power button's input device does).
int ksand_input_has_power_key(int fd);

/// Reads every pending event from a non-blocking evdev descriptor. Returns 1 if one was a KEY_POWER press,
/// 0 if none was, -1 with errno set when the device failed.
int ksand_input_read_power_press(int fd);

/// Adds `length` bytes to the kernel's input pool through /dev/urandom (RNDADDENTROPY, credited at 8 bits a byte)
/// and reseeds the RNG from it (RNDRESEEDCRNG). Returns 0, or -1 with errno set.
int ksand_add_entropy_and_reseed(const unsigned char *bytes, int length);

/// Brings the network interface `name` up (SIOCSIFFLAGS with IFF_UP; the loopback gets 127.0.0.1 from the kernel).
/// Returns 0, or -1 with errno set.
int ksand_interface_up(const char *name);

/// Gives interface `name` the IPv4 `address` with a `prefix`-bit netmask (SIOCSIFADDR, SIOCSIFNETMASK).
/// Returns 0, or -1 with errno set (EINVAL for an address that does not parse).
int ksand_interface_set_address(const char *name, const char *address, int prefix);

/// Adds the IPv4 default route through `gateway` (SIOCADDRT). Returns 0, or -1 with errno set.
int ksand_add_default_route(const char *gateway);

#endif
