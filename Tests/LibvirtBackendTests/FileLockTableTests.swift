import Foundation
import Testing
@testable import LibvirtBackend

/// /proc/locks, parsed: recorded from a host running a build (a flock and a POSIX range lock) and from one with a
/// waiter queued behind a lock.
@Suite struct FileLockTableTests {
    @Test func grantedLocksAreReadAndWaitersLeftOut() {
        let table = FileLockTable(parsing: """
            1: FLOCK  ADVISORY  WRITE 29702 fe:00:16220333 0 EOF
            2: POSIX  ADVISORY  WRITE 29702 fe:00:5310688 1073741824 1073742335
            3: POSIX  ADVISORY  WRITE 811 00:1a:1043 0 EOF
            3: -> POSIX  ADVISORY  WRITE 912 00:1a:1043 0 EOF
            4: OFDLCK ADVISORY  READ  -1 103:02:77 0 EOF
            not a lock line
            5: POSIX  ADVISORY  WRITE x fe:00:1 0 EOF

            """)
        #expect(table.entries == [
            .init(kind: "FLOCK", pid: 29702, deviceMajor: 0xfe, deviceMinor: 0, inode: 16_220_333),
            .init(kind: "POSIX", pid: 29702, deviceMajor: 0xfe, deviceMinor: 0, inode: 5_310_688),
            .init(kind: "POSIX", pid: 811, deviceMajor: 0, deviceMinor: 0x1a, inode: 1043),
            .init(kind: "OFDLCK", pid: -1, deviceMajor: 0x103, deviceMinor: 2, inode: 77),
        ])
    }

    /// A file is matched by device and inode, as the kernel prints them for the file `stat` describes.
    @Test func theHoldersOfAFileAreMatchedByDeviceAndInode() throws {
        let scratch = try ScratchDirectory()
        let path = scratch.path + "/locked"
        FileManager.default.createFile(atPath: path, contents: nil)
        let fd = open(path, O_RDWR)
        defer { close(fd) }
        #expect(flock(fd, LOCK_EX) == 0)
        let table = FileLockTable.current()
        #expect(table.holders(of: path, excluding: -1) == [getpid()])
        #expect(table.holders(of: path).isEmpty, "this process is left out by default")
        #expect(table.holders(of: scratch.path + "/missing", excluding: -1).isEmpty)
        // The same inode on another device is another file.
        var status = stat()
        #expect(stat(path, &status) == 0)
        let mine = try #require(table.entries.first { $0.pid == getpid() && $0.inode == UInt64(status.st_ino) })
        var elsewhere = mine
        elsewhere.deviceMinor &+= 1
        #expect(FileLockTable(entries: [mine]).holders(of: path, excluding: -1) == [getpid()])
        #expect(FileLockTable(entries: [elsewhere]).holders(of: path, excluding: -1).isEmpty)
    }
}
