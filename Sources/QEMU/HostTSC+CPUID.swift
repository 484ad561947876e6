import CHostCPU

extension HostTSC {
    /// The TSC rate as the CPU (or the hypervisor) enumerates it. `cpuid` answers a leaf and subleaf with EAX, EBX,
    /// ECX, EDX; tests give a made-up CPU.
    struct CPUIDReader {
        var cpuid: (_ leaf: UInt32, _ subleaf: UInt32) -> [UInt32] = CPUIDReader.hardware

        /// This CPU's answer; all zeros where CPUID does not exist (not x86-64), which reads as "no such leaf".
        static func hardware(_ leaf: UInt32, _ subleaf: UInt32) -> [UInt32] {
            var registers = [UInt32](repeating: 0, count: 4)
            guard ksand_cpu_has_tsc() != 0 else { return registers }
            registers.withUnsafeMutableBufferPointer { ksand_cpuid(leaf, subleaf, $0.baseAddress!) }
            return registers
        }

        /// From leaf 0x15 (Time Stamp Counter and Nominal Core Crystal Clock), when the CPU enumerates it and fills
        /// in all three of its values.
        func crystalKilohertz() -> Int? {
            guard cpuid(0, 0)[0] >= 0x15 else { return nil }
            let leaf = cpuid(0x15, 0)
            return HostTSC.kilohertz(denominator: leaf[0], numerator: leaf[1], crystalHertz: leaf[2])
        }

        /// From the hypervisor's leaf 0x40000010 (EAX: the TSC rate in kHz), when CPUID 1 says a hypervisor is
        /// present (ECX bit 31) and its leaf 0x40000000 says the leaf exists.
        func hypervisorKilohertz() -> Int? {
            guard cpuid(1, 0)[2] & (1 << 31) != 0, cpuid(0x4000_0000, 0)[0] >= 0x4000_0010 else { return nil }
            let kilohertz = cpuid(0x4000_0010, 0)[0]
            return kilohertz == 0 ? nil : Int(kilohertz)
        }
    }

    /// Leaf 0x15's arithmetic: TSC Hz = crystal Hz × numerator (EBX) ÷ denominator (EAX), to the nearest kHz. nil
    /// when any of them is 0: the CPU does not enumerate the ratio, or (some Intel client parts) not the crystal.
    static func kilohertz(denominator: UInt32, numerator: UInt32, crystalHertz: UInt32) -> Int? {
        guard denominator != 0, numerator != 0, crystalHertz != 0 else { return nil }
        let hertz = UInt64(crystalHertz) * UInt64(numerator) / UInt64(denominator)
        return Int((hertz + 500) / 1000)
    }
}
