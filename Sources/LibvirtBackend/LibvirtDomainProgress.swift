import CLibvirt
import Foundation

/// One sample of what a domain is doing, for a stop watcher that waits while the guest still makes progress:
/// its vCPU time and block I/O counters as libvirt reports them (`virDomainListGetStats` with
/// `VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BLOCK`), and its QEMU's pid on a local QEMU driver, through
/// which the caller can read /proc/PID/io for I/O that no disk shows (9p shares, the serial console).
public struct LibvirtDomainProgress: Sendable, Equatable, CustomStringConvertible {
    /// CPU time used by the domain's QEMU (vCPUs and emulator threads), in nanoseconds (`cpu.time`).
    public var cpuTimeNanoseconds: UInt64?
    /// Bytes read from the domain's disks, summed (`block.N.rd.bytes`).
    public var blockReadBytes: UInt64 = 0
    /// Bytes written to them (`block.N.wr.bytes`).
    public var blockWrittenBytes: UInt64 = 0
    /// Read requests (`block.N.rd.reqs`).
    public var blockReadRequests: UInt64 = 0
    /// Write requests (`block.N.wr.reqs`).
    public var blockWriteRequests: UInt64 = 0
    /// Flush requests (`block.N.fl.reqs`).
    public var blockFlushRequests: UInt64 = 0
    /// How many disks the counters cover (`block.count`).
    public var disks: UInt32 = 0
    /// The domain's QEMU process, when the URI names a local QEMU driver and it runs (``LibvirtDomain/qemuPID``).
    public var qemuPID: pid_t?

    /// A sample with the given CPU time and pid and no disk activity.
    public init(cpuTimeNanoseconds: UInt64? = nil, qemuPID: pid_t? = nil) {
        self.cpuTimeNanoseconds = cpuTimeNanoseconds
        self.qemuPID = qemuPID
    }

    /// Whether any disk counter differs from `earlier`: the guest is reading, writing or flushing. CPU time alone is
    /// not counted: a guest spinning without I/O is not flushing anything.
    public func blockIOMoved(since earlier: LibvirtDomainProgress) -> Bool {
        blockReadBytes != earlier.blockReadBytes || blockWrittenBytes != earlier.blockWrittenBytes
            || blockReadRequests != earlier.blockReadRequests || blockWriteRequests != earlier.blockWriteRequests
            || blockFlushRequests != earlier.blockFlushRequests
    }

    public var description: String {
        "cpu=\(cpuTimeNanoseconds.map(String.init) ?? "?")ns disks=\(disks) rd=\(blockReadBytes)B/\(blockReadRequests) "
            + "wr=\(blockWrittenBytes)B/\(blockWriteRequests) flush=\(blockFlushRequests) pid=\(qemuPID.map(String.init) ?? "-")"
    }

    /// Reads the counters out of one stats record's typed parameters.
    init(parameters: virTypedParameterPtr?, count: Int32, qemuPID: pid_t?) {
        self.qemuPID = qemuPID
        func unsigned64(_ name: String) -> UInt64? {
            var value: UInt64 = 0
            return virTypedParamsGetULLong(parameters, count, name, &value) == 1 ? value : nil
        }
        cpuTimeNanoseconds = unsigned64("cpu.time")
        var disks: UInt32 = 0
        if virTypedParamsGetUInt(parameters, count, "block.count", &disks) == 1 {
            self.disks = disks
            for index in 0..<disks {
                blockReadBytes &+= unsigned64("block.\(index).rd.bytes") ?? 0
                blockWrittenBytes &+= unsigned64("block.\(index).wr.bytes") ?? 0
                blockReadRequests &+= unsigned64("block.\(index).rd.reqs") ?? 0
                blockWriteRequests &+= unsigned64("block.\(index).wr.reqs") ?? 0
                blockFlushRequests &+= unsigned64("block.\(index).fl.reqs") ?? 0
            }
        }
    }
}

extension LibvirtDomain {
    /// A progress sample of the running domain (one `virDomainListGetStats` call).
    public func progress() throws(LibvirtError) -> LibvirtDomainProgress {
        var domains: [OpaquePointer?] = [pointer, nil]
        var records: UnsafeMutablePointer<virDomainStatsRecordPtr?>?
        let stats = VIR_DOMAIN_STATS_CPU_TOTAL.rawValue | VIR_DOMAIN_STATS_BLOCK.rawValue
        let count = virDomainListGetStats(&domains, stats, &records, 0)
        guard count >= 0 else { throw error("read the statistics of") }
        defer { virDomainStatsRecordListFree(records) }
        guard count > 0, let record = records?[0] else {
            throw LibvirtError(operation: "read the statistics of domain '\(name)'", uri: connection.uri,
                               message: "libvirt returned no statistics (has the domain stopped?)", kind: .noDomain)
        }
        return LibvirtDomainProgress(parameters: record.pointee.params, count: record.pointee.nparams, qemuPID: qemuPID)
    }
}
