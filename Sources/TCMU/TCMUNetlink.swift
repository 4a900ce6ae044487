import CNetlink
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's TCMU generic netlink family (`TCM-USER`, group `config`) through libnl-3: the
/// device events a handler hears (added, removed, reconfigured) and the replies it may send.
///
/// The kernel waits for a reply to an event only for a device whose `nl_reply_supported` is at
/// least 0 after some handler sent `SET_FEATURES` with replies on (a module-wide setting that
/// outlives the handler). stmfd creates its devices with `nl_reply_supported=-1`, so a stmfd
/// that died can never hang a configfs operation and another handler (tcmu-runner) can never
/// refuse its devices (kernel-path.md §5.3); it listens to learn of changes made behind its
/// back. `reply` is there for a device that does wait. Not thread-safe: one loop uses it.
public final class TCMUNetlink: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public struct Event: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: Sendable, Equatable { case added, removed, reconfigured, other(Int32) }
        public var kind: Kind
        /// The uio name: `tcm-user/<hba>/<device>[/<config>]`.
        public var device: String
        public var minor: UInt32
        public var deviceID: UInt32
        public var newConfig: String?
        public var newSize: UInt64?
        public var newWriteCache: Bool?

        /// The HBA number and device name in the uio name, if it is one.
        public var hbaAndName: (hba: Int, name: String)? {
            let parts = device.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count >= 3, parts[0] == "tcm-user", let hba = Int(parts[1]) else { return nil }
            return (hba, String(parts[2]))
        }

        public var description: String {
            var s = "\(kind) \(device) uio\(minor) id \(deviceID)"
            if let newConfig { s += " config=\(newConfig)" }
            if let newSize { s += " size=\(newSize)" }
            if let newWriteCache { s += " write-cache=\(newWriteCache)" }
            return s
        }
    }

    private let handle: OpaquePointer

    public init() throws(Failure) {
        var why = [CChar](repeating: 0, count: 256)
        guard let h = stmf_tcmu_nl_open(&why, Int32(why.count)) else {
            throw Failure(description: String(decoding: why.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        handle = h
    }

    deinit { stmf_tcmu_nl_close(handle) }

    /// The socket, to watch for input.
    public var fileDescriptor: Int32 { stmf_tcmu_nl_fd(handle) }
    public var family: Int32 { stmf_tcmu_nl_family(handle) }

    private final class Collector { var events: [Event] = [] }

    /// Reads what is pending (non-blocking).
    public func receive() throws(Failure) -> [Event] {
        let collector = Collector()
        let rc = stmf_tcmu_nl_receive(handle, { context, raw in
            guard let context, let e = raw?.pointee else { return }
            Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue().events.append(TCMUNetlink.event(e))
        }, Unmanaged.passUnretained(collector).toOpaque())
        if rc < 0 { throw Failure(description: "receiving TCM-USER events: \(String(cString: stmf_tcmu_nl_error(rc)))") }
        return collector.events
    }

    static func event(_ e: stmf_tcmu_event) -> Event {
        func text<T>(_ tuple: T) -> String {
            withUnsafeBytes(of: tuple) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
        }
        let kind: Event.Kind = switch e.command {
        case Int32(STMF_TCMU_CMD_ADDED_DEVICE): .added
        case Int32(STMF_TCMU_CMD_REMOVED_DEVICE): .removed
        case Int32(STMF_TCMU_CMD_RECONFIG_DEVICE): .reconfigured
        default: .other(e.command)
        }
        return Event(kind: kind, device: text(e.device), minor: e.minor, deviceID: e.device_id,
                     newConfig: e.has_config != 0 ? text(e.config) : nil,
                     newSize: e.has_size != 0 ? e.size : nil,
                     newWriteCache: e.has_write_cache != 0 ? e.write_cache != 0 : nil)
    }

    /// Answers an event the kernel waits on: 0, or -errno to refuse it.
    public func reply(to event: Event, status: Int32) throws(Failure) {
        let command: Int32 = switch event.kind {
        case .added: Int32(STMF_TCMU_CMD_ADDED_DEVICE)
        case .removed: Int32(STMF_TCMU_CMD_REMOVED_DEVICE)
        case .reconfigured: Int32(STMF_TCMU_CMD_RECONFIG_DEVICE)
        case let .other(c): c
        }
        let rc = stmf_tcmu_nl_reply(handle, command, event.deviceID, status)
        if rc < 0 { throw Failure(description: "replying to \(event): \(String(cString: stmf_tcmu_nl_error(rc)))") }
    }

    /// `SET_FEATURES`: whether handlers reply to events (module-wide, and kept after this
    /// process ends: the kernel then waits on every device created with replies allowed).
    public func setFeatures(replies: Bool) throws(Failure) {
        let rc = stmf_tcmu_nl_set_features(handle, replies ? 1 : 0)
        if rc < 0 { throw Failure(description: "SET_FEATURES: \(String(cString: stmf_tcmu_nl_error(rc)))") }
    }
}
