#ifndef KSAND_HOST_CPU_H
#define KSAND_HOST_CPU_H

#include <stdint.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

/// Whether this build can execute CPUID and RDTSC: 1 on x86-64, 0 elsewhere (where the functions below report 0).
static inline int ksand_cpu_has_tsc(void) {
#if defined(__x86_64__)
    return 1;
#else
    return 0;
#endif
}

/// CPUID with `leaf` in EAX and `subleaf` in ECX; stores EAX, EBX, ECX, EDX into `registers`. The caller checks that
/// the leaf is in range first (CPUID 0 and 0x40000000 give the highest basic and hypervisor leaves): out of range,
/// the CPU answers with another leaf's data. Zeros on other architectures.
static inline void ksand_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t registers[4]) {
#if defined(__x86_64__)
    unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
    __cpuid_count(leaf, subleaf, eax, ebx, ecx, edx);
    registers[0] = eax;
    registers[1] = ebx;
    registers[2] = ecx;
    registers[3] = edx;
#else
    (void)leaf;
    (void)subleaf;
    registers[0] = registers[1] = registers[2] = registers[3] = 0;
#endif
}

/// The time-stamp counter (RDTSC); 0 on other architectures.
static inline uint64_t ksand_rdtsc(void) {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#else
    return 0;
#endif
}

#endif
