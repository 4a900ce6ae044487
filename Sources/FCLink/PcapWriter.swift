#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Writes frames to a classic pcap file with link type 225 (LINKTYPE_FC_2_WITH_FRAME_DELIMS),
/// which Wireshark dissects as FC-2 with SOF, CRC and EOF. Thread-safe; buffered, flushed by
/// `flush()` (the fabric flushes after every batch it reads) and on `close()`.
public final class PcapWriter: @unchecked Sendable {
    public static let linkType: UInt32 = 225
    private let fd: Int32
    private let lock = NSLock()
    private var buffer: [UInt8] = []
    private var isClosed = false

    /// Creates (truncates) `path` and writes the pcap file header.
    public init(path: String) throws(SocketError) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SocketError(operation: "open pcap", path: path, errno: errno) }
        append32(0xA1B2_C3D4)           // magic, microsecond timestamps
        append16(2); append16(4)        // version 2.4
        append32(0); append32(0)        // thiszone, sigfigs
        append32(65535)                 // snaplen
        append32(Self.linkType)
        flush()
    }

    private func append32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { buffer.append(contentsOf: $0) } }
    private func append16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { buffer.append(contentsOf: $0) } }

    /// Records one encoded frame (SOF … EOF).
    public func record(frame: UnsafeRawBufferPointer) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        lock.lock()
        defer { lock.unlock() }
        guard !isClosed else { return }
        append32(UInt32(truncatingIfNeeded: ts.tv_sec))
        append32(UInt32(ts.tv_nsec / 1000))
        append32(UInt32(frame.count))
        append32(UInt32(frame.count))
        buffer.append(contentsOf: frame)
        if buffer.count >= 1 << 20 { writeOut() }
    }

    private func writeOut() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { p in
            var off = 0
            while off < p.count {
                let n = write(fd, p.baseAddress! + off, p.count - off)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                off += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes buffered records to the file.
    public func flush() {
        lock.lock()
        writeOut()
        lock.unlock()
    }

    /// Flushes, syncs and closes the file.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !isClosed else { return }
        writeOut()
        fsync(fd)
        Glibc.close(fd)
        isClosed = true
    }
}
