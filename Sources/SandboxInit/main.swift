import CGuestSyscalls
import Glibc
import SandboxProtocol

/// The guest's /init: mounts, loads modules, opens the command channel, builds the sandbox's root from the host's,
/// runs the command with its streams relayed over the channel, reports how it ended, and powers the machine off.
struct GuestInit {
    var log = KernelLog()
    var port: PortChannel?
    var powerButton = PowerButton()

    mutating func run() -> Never {
        do {
            let spec = try setUp()
            log.marker(.specReceived)
            try HostState.apply(spec)
            let network = NetworkSetup(spec: spec)
            try network.configureInterfaces()
            let setup = RootSetup(spec: spec)
            try setup.prepare()
            try network.installResolver(root: RootSetup.newRoot)
            try setup.switchRoot()
            let command = try CommandLauncher(spec: spec).start(log: log)
            var relay = CommandRelay(
                port: port!, command: command, powerButton: powerButton, terminateGraceMilliseconds: spec.terminateGraceMilliseconds, log: log)
            let status = relay.run()
            port!.send(Frame(.exit, status.encoded()))
            log.marker(.commandExit, detail: "status=\(status.shellStatus)")
        } catch {
            let text = "ksand-init: \(error)"
            log.error(text)
            port?.send(Frame(.failure, Array(text.utf8)))
        }
        port?.flush()
        PowerOff.now(log: log)
    }

    /// Everything up to the run spec: /dev and the start marker, /proc and /sys, modules, the channel, the handshake.
    private mutating func setUp() throws(InitFailure) -> RunSpec {
        // A command that closes its stdin early must show up as EPIPE on the pipe, never as a signal to the init.
        _ = signal(SIGPIPE, SIG_IGN)
        try RootSetup.mountDevices()
        // Without /dev/console in the initramfs, 0–2 start closed and the first descriptors opened would take them.
        for fd: Int32 in 0...2 where ksand_fd_is_open(fd) == 0 {
            _ = open("/dev/null", O_RDWR)
        }
        log.open()
        log.marker(.initStart)
        try RootSetup.mountKernelFileSystems()
        try ModuleLoader().loadAll()
        // Opened before the hello, which tells the host whether a power-button press will reach the init.
        powerButton = PowerButton.open()
        port = try PortChannel.open()
        return try port!.handshake(listensToPowerButton: powerButton.isPresent)
    }
}

var guestInit = GuestInit()
guestInit.run()
