import Glibc
import SandboxProtocol

/// The guest end of the command channel: the virtio-serial port named ``Frame/portName``.
///
/// The descriptor is non-blocking. Writes are complete (a full port waits in poll, which is the backpressure the
/// host sees), and ``flush()`` makes sure they have left the guest before it powers off; reads feed a
/// ``FrameDecoder`` that outlives the hello/spec exchange, so frames the host sent right behind the spec reach
/// the relay.
final class PortChannel {
    let fd: Int32
    /// False once the host end has gone: the port then refuses writes for good, and they would block forever.
    private(set) var hostConnected = true
    private var decoder = FrameDecoder()
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    private init(fd: Int32, outputQueueCapacity: Int) {
        self.fd = fd
        self.outputQueueCapacity = outputQueueCapacity
    }

    /// Finds the port among /sys/class/virtio-ports and opens it, polling until it appears (the virtio devices
    /// probe asynchronously once their modules are loaded).
    static func open(name: String = Frame.portName, timeoutMilliseconds: Int64 = 10_000) throws(InitFailure) -> PortChannel {
        let deadline = Clock.milliseconds() + timeoutMilliseconds
        let classDirectory = "/sys/class/virtio-ports"
        while true {
            for entry in FileSystem.entries(classDirectory) ?? [] {
                guard let content = FileSystem.read(classDirectory + "/" + entry + "/name") else { continue }
                var portName = String(decoding: content, as: UTF8.self)
                while portName.hasSuffix("\n") { portName.removeLast() }
                guard portName == name else { continue }
                let fd = Glibc.open("/dev/" + entry, O_RDWR | O_NONBLOCK | O_CLOEXEC)
                if fd >= 0 {
                    let onPCI = FileSystem.linkTarget(classDirectory + "/" + entry)?.contains("/pci") ?? false
                    return PortChannel(fd: fd, outputQueueCapacity: onPCI ? 128 : 1024)
                }
                if errno != ENOENT { throw .system("open /dev/\(entry) (port \(name))") }
            }
            if Clock.milliseconds() >= deadline {
                throw InitFailure("no virtio-serial port named \(name) in \(classDirectory) after \(timeoutMilliseconds) ms")
            }
            Clock.napOneMillisecond()
        }
    }

    /// Says hello and waits for the run spec. The host only learns that the port is open from the hello, and
    /// anything it sent earlier was dropped, so the guest speaks first.
    /// The host answers the hello with the spec at once; `specTimeoutMilliseconds` only bounds a host that went
    /// away or never answers, so that the init powers off instead of waiting forever.
    func handshake(
        listensToPowerButton: Bool, timeoutMilliseconds: Int64 = 10_000, specTimeoutMilliseconds: Int64 = 60_000
    ) throws(InitFailure) -> RunSpec {
        let hello = Hello(listensToPowerButton: listensToPowerButton)
        try sendHello(hello, deadline: Clock.milliseconds() + timeoutMilliseconds)
        let specDeadline = Clock.milliseconds() + specTimeoutMilliseconds
        while true {
            while let frame = try nextFrame() {
                guard frame.kind == .spec else { continue }
                do {
                    return try RunSpec(decoding: frame.payload)
                } catch {
                    throw InitFailure("run spec: \(error)")
                }
            }
            let left = specDeadline - Clock.milliseconds()
            guard left > 0 else { throw InitFailure("no run spec from the host within \(specTimeoutMilliseconds / 1000) s of the hello") }
            var pending = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pending, 1, Int32(min(left, 1000)))
            if ready < 0 && errno != EINTR { throw .system("poll command channel") }
            if ready <= 0 { continue }
            guard try receive() else { throw InitFailure("command channel closed by the host before the run spec") }
        }
    }

    /// Reads what the port has (up to about 1 MiB); false when the host has closed its end.
    /// The driver hands out one page-sized receive buffer per read, so a single read would mean one poll per 4 KiB.
    func receive() throws(InitFailure) -> Bool {
        var total = 0
        while total < 1 << 20 {
            let n = read(fd, &readBuffer, readBuffer.count)
            if n > 0 {
                decoder.append(readBuffer[0..<n])
                total += n
                continue
            }
            if n == 0 {
                if total > 0 { return true }
                hostConnected = false
                return false
            }
            switch errno {
            case EINTR: continue
            case EAGAIN: return true
            default: throw .system("read command channel")
            }
        }
        return true
    }

    /// The next complete frame received, if any.
    func nextFrame() throws(InitFailure) -> Frame? {
        do {
            return try decoder.next()
        } catch {
            throw InitFailure("\(error)")
        }
    }

    /// Sends a frame; returns false when the host has gone (the frame is then lost).
    @discardableResult
    func send(_ frame: Frame) -> Bool {
        let bytes = frame.encoded()
        return bytes.withUnsafeBytes { writeAll($0.baseAddress!, $0.count) }
    }

    /// Writes all bytes, waiting in poll while the port is full.
    func writeAll(_ start: UnsafeRawPointer, _ count: Int) -> Bool {
        var offset = 0
        while offset < count {
            guard hostConnected else { return false }
            let n = write(fd, start + offset, count - offset)
            if n > 0 {
                offset += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            guard n < 0 && errno == EAGAIN else {
                hostConnected = false
                return false
            }
            if !waitWritable() { return false }
        }
        return true
    }

    /// Returns once everything sent so far has left the guest, so that powering off cannot lose it.
    ///
    /// A write to the port completes as soon as its buffer is queued, and while the host reads slowly QEMU holds
    /// up to ``outputQueueCapacity`` queued buffers (megabytes of output); powering off would drop them. QEMU
    /// takes buffers strictly in order and never holds more than a queue's worth, so once a whole queue of filler
    /// has been queued behind the last real frame, every earlier buffer has been written to the host's socket.
    /// The filler is empty stdout frames, which add no bytes to the command's output.
    func flush() {
        // One writev carries many fillers: the driver turns each iovec into a buffer of its own.
        var filler = Frame(.stdout, []).encoded()
        filler.withUnsafeMutableBytes { bytes in
            var vectors = [iovec](repeating: iovec(iov_base: bytes.baseAddress, iov_len: bytes.count), count: 256)
            var remaining = outputQueueCapacity * bytes.count
            while remaining > 0 && hostConnected {
                let batch = min(vectors.count, (remaining + bytes.count - 1) / bytes.count)
                let n = writev(fd, &vectors, Int32(batch))
                if n > 0 {
                    // Whole fillers only: the driver takes an iovec entirely or not at all.
                    remaining -= n
                } else if n < 0 && errno == EINTR {
                    continue
                } else if n < 0 && errno == EAGAIN {
                    if !waitWritable() { return }
                } else {
                    hostConnected = false
                }
            }
        }
    }

    /// How many buffers the port's output queue holds; each port write takes one. QEMU's virtio-serial fixes its
    /// queues at 128 entries on PCI, while over virtio-mmio the guest sizes them to the largest QEMU accepts (1024).
    let outputQueueCapacity: Int

    /// Waits until the port takes more bytes; false when the host has gone instead.
    func waitWritable() -> Bool {
        while hostConnected {
            var pending = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            if poll(&pending, 1, -1) < 0 { continue }
            if pending.revents & Int16(POLLOUT) != 0 { return true }
            if pending.revents & Int16(POLLHUP) != 0 { hostConnected = false }
        }
        return false
    }

    /// The hello goes out as soon as the host end is open. The port may show up before the host's "open" event
    /// has reached the guest; until then it reports POLLHUP and refuses writes, so wait in short naps.
    private func sendHello(_ content: Hello, deadline: Int64) throws(InitFailure) {
        let hello = Frame(.hello, content.encoded()).encoded()
        var offset = 0
        while offset < hello.count {
            let n = hello.withUnsafeBytes { write(fd, $0.baseAddress! + offset, hello.count - offset) }
            if n > 0 {
                offset += n
                continue
            }
            if n < 0 && errno == EINTR { continue }
            guard n < 0 && errno == EAGAIN else { throw .system("write hello to the command channel") }
            var pending = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&pending, 1, 1)
            if pending.revents & Int16(POLLOUT) == 0 {
                if Clock.milliseconds() >= deadline {
                    throw InitFailure("command channel: the host end did not open within 10 s")
                }
                if pending.revents & Int16(POLLHUP) != 0 { Clock.napOneMillisecond() }
            }
        }
    }
}
