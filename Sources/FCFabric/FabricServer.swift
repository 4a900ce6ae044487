#if canImport(Glibc)
import Glibc
#endif
import FCLink
import Foundation
import STMF

/// Listens for ports on the fabric socket and for `fcfabric ctl` requests on `<socket>.ctl`.
public final class FabricServer: @unchecked Sendable {
    public let fabric: Fabric
    public let socketPath: String
    public var controlPath: String { Self.controlPath(for: socketPath) }
    private var portListener: Int32 = -1
    private var controlListener: Int32 = -1

    public static func controlPath(for socket: String) -> String { socket + ".ctl" }

    public init(fabric: Fabric, socketPath: String) {
        self.fabric = fabric
        self.socketPath = socketPath
    }

    /// Binds both sockets and starts accepting.
    public func start() throws(SocketError) {
        portListener = try UnixSocket.listen(socketPath)
        controlListener = try UnixSocket.listen(controlPath)
        let ports = portListener, control = controlListener
        let logger = fabric.logger
        let shortage: @Sendable (String) -> @Sendable (Int32) -> Void = { what in
            { e in logger.warning("cannot accept a \(what) connection yet: \(String(cString: strerror(e))); retrying") }
        }
        Thread { [fabric] in
            while let fd = UnixSocket.accept(ports, onShortage: shortage("port")) {
                fabric.attach(FrameLink(fd: fd, limit: fabric.configuration.egressLimit))
            }
        }.start()
        Thread { [fabric] in
            while let fd = UnixSocket.accept(control, onShortage: shortage("control")) {
                Thread { FabricControl.serve(fd: fd, fabric: fabric) }.start()
            }
        }.start()
    }

    /// Stops accepting and removes the socket files.
    public func stop() {
        for fd in [portListener, controlListener] where fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
        unlink(socketPath)
        unlink(controlPath)
        fabric.closeCapture()
    }
}

/// One `fcfabric ctl` request: a JSON line in, a JSON line out.
public struct ControlRequest: Codable, Sendable {
    public enum Operation: String, Codable, Sendable { case show, linkDown = "link-down", linkUp = "link-up", faults }
    public var op: Operation
    public var wwpn: String?
    public var faults: Faults?
    public init(op: Operation, wwpn: String? = nil, faults: Faults? = nil) {
        self.op = op
        self.wwpn = wwpn
        self.faults = faults
    }
}

public struct ControlReply: Codable, Sendable {
    public var ok: Bool
    public var error: String?
    public var ports: [PortStatus]?
    public init(ok: Bool, error: String? = nil, ports: [PortStatus]? = nil) {
        self.ok = ok
        self.error = error
        self.ports = ports
    }
}

public enum FabricControl {
    static func serve(fd: Int32, fabric: Fabric) {
        defer { close(fd) }
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !data.contains(10), data.count < 65536 {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        let line = data.prefix { $0 != 10 }
        let reply: ControlReply
        if let request = try? JSONDecoder().decode(ControlRequest.self, from: Data(line)) {
            reply = handle(request, fabric: fabric)
        } else {
            reply = ControlReply(ok: false, error: "malformed control request")
        }
        var out = (try? JSONEncoder().encode(reply)).map { [UInt8]($0) } ?? []
        out.append(10)
        out.withUnsafeBytes { _ = UnixSocket.writeAll(fd, $0) }
    }

    static func handle(_ r: ControlRequest, fabric: Fabric) -> ControlReply {
        var wwn: WWN?
        if let text = r.wwpn {
            guard let w = WWN(text) else { return ControlReply(ok: false, error: "`\(text)` is not a WWPN") }
            wwn = w
        }
        do throws(Fabric.ControlError) {
            switch r.op {
            case .show:
                return ControlReply(ok: true, ports: fabric.ports())
            case .linkDown, .linkUp:
                guard let wwn else { return ControlReply(ok: false, error: "a port WWPN is required") }
                if r.op == .linkDown { try fabric.linkDown(wwn) } else { try fabric.linkUp(wwn) }
            case .faults:
                try fabric.setFaults(r.faults ?? Faults(), port: wwn)
            }
            return ControlReply(ok: true)
        } catch {
            return ControlReply(ok: false, error: error.description)
        }
    }

    /// Sends one request to a running fabric's control socket.
    public static func request(_ r: ControlRequest, socket: String) throws -> ControlReply {
        let fd = try UnixSocket.connect(FabricServer.controlPath(for: socket))
        defer { close(fd) }
        var out = [UInt8](try JSONEncoder().encode(r))
        out.append(10)
        guard out.withUnsafeBytes({ UnixSocket.writeAll(fd, $0) }) else {
            throw SocketError(operation: "write", path: socket, errno: errno)
        }
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        return try JSONDecoder().decode(ControlReply.self, from: Data(data.prefix { $0 != 10 }))
    }
}
