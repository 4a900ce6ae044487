import Foundation
import Locking
import Testing
@testable import SGBridge

/// The server and protocol on their own: a raw client instead of the shim.
@Suite struct BridgeServerTests {
    /// Every constant of the C header is mirrored by the Swift side with the same value.
    @Test func protocolConstantsMatchTheCHeader() throws {
        let header = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("CModules/CSGShim/include/fcinit_sgbridge.h")
        let text = try String(contentsOf: header, encoding: .utf8)
        var defines: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("#define SGB_") {
            let parts = line.split(separator: " ", maxSplits: 2)
            guard parts.count == 3 else { continue }
            defines[String(parts[1])] = parts[2].split(separator: "/*")[0].trimmingCharacters(in: .whitespaces)
        }
        func number(_ name: String) -> Int? {
            guard var v = defines[name] else { return nil }
            v = v.replacingOccurrences(of: "u", with: "")
            if v.hasPrefix("0x") { return Int(v.dropFirst(2), radix: 16) }
            if v.hasPrefix("("), v.hasSuffix(")") {
                return v.dropFirst().dropLast().split(separator: "*").map { Int($0.trimmingCharacters(in: .whitespaces))! }.reduce(1, *)
            }
            return Int(v)
        }
        #expect(number("SGB_PROTOCOL_VERSION") == Int(SGBridgeProtocol.version))
        #expect(number("SGB_REQUEST_MAGIC") == Int(SGBridgeProtocol.requestMagic))
        #expect(number("SGB_REPLY_MAGIC") == Int(SGBridgeProtocol.replyMagic))
        #expect(number("SGB_REQUEST_HEADER_SIZE") == SGBridgeProtocol.requestHeaderSize)
        #expect(number("SGB_REPLY_HEADER_SIZE") == SGBridgeProtocol.replyHeaderSize)
        #expect(number("SGB_MAX_CDB_LENGTH") == SGBridgeProtocol.maxCDBLength)
        #expect(number("SGB_MAX_SENSE_LENGTH") == SGBridgeProtocol.maxSenseLength)
        #expect(number("SGB_MAX_TRANSFER") == SGBridgeProtocol.maxTransfer)
        #expect(number("SGB_DIR_NONE") == Int(SGRequest.Direction.none.rawValue))
        #expect(number("SGB_DIR_TO_DEVICE") == Int(SGRequest.Direction.toDevice.rawValue))
        #expect(number("SGB_DIR_FROM_DEVICE") == Int(SGRequest.Direction.fromDevice.rawValue))
        #expect(number("SGB_DID_NO_CONNECT") == Int(SGHostStatus.noConnect))
        #expect(number("SGB_DID_TIME_OUT") == Int(SGHostStatus.timeOut))
        #expect(number("SGB_DID_ABORT") == Int(SGHostStatus.abort))
        #expect(number("SGB_DID_ERROR") == Int(SGHostStatus.error))
        #expect(defines["SGB_ENV_DEVICE"] == "\"\(SGBridgeProtocol.deviceVariable)\"")
        #expect(defines["SGB_ENV_SOCKET"] == "\"\(SGBridgeProtocol.socketVariable)\"")
        #expect(defines["SGB_ENV_DEBUG"] == "\"\(SGBridgeProtocol.debugVariable)\"")
        #expect(defines["SGB_ENV_LUN"] == "\"\(SGBridgeProtocol.lunVariable)\"")
        #expect(defines["SGB_MAX_DEVICES"] == String(SGBridgeEnvironment.maximumDevices))
    }

    @Test func requestHeaderRoundTrip() throws {
        let r = SGRequest(id: 0x0102_0304_0506_0708, cdb: [0x2A, 0, 0, 0, 0, 9, 0, 0, 2, 0], direction: .toDevice,
                          dataOut: [UInt8](repeating: 7, count: 1024), timeoutMilliseconds: 30_000)
        let frame = SGBridgeProtocol.encode(request: r)
        #expect(frame.count == 32 + 10 + 1024)
        #expect(Array(frame[0..<4]) == Array("SGBQ".utf8))
        let h = try frame.withUnsafeBytes { try SGBridgeProtocol.decodeRequestHeader($0) }
        #expect(h == .init(cdbLength: 10, id: r.id, direction: .toDevice, timeoutMilliseconds: 30_000, transferLength: 1024))
        var bad = frame
        bad[16] = 9
        #expect(throws: SGBridgeProtocol.DecodingError.badDirection(9)) { try bad.withUnsafeBytes { try SGBridgeProtocol.decodeRequestHeader($0) } }
        bad = frame
        bad[6] = 0; bad[7] = 2 // 512-byte CDB
        #expect(throws: SGBridgeProtocol.DecodingError.badCDBLength(512)) { try bad.withUnsafeBytes { try SGBridgeProtocol.decodeRequestHeader($0) } }
    }

    /// Requests of one connection run concurrently and replies come back as they finish, by id.
    @Test func concurrentRequestsReplyOutOfOrder() async throws {
        let scratch = try Scratch()
        _ = scratch
        let path = uniqueSocketPath()
        let server = try SGBridgeServer(socketPath: path) { req in
            // The first request waits, so the later ones overtake it.
            if req.cdb[1] == 1 { try? await Task.sleep(for: .milliseconds(300)) }
            switch req.direction {
            case .fromDevice: return .good(dataIn: [UInt8](repeating: req.cdb[1], count: req.transferLength + 10))
            case .toDevice: return SGReply(status: 0, residual: 0, sense: [])
            case .none: return SGReply(status: 2, sense: [0x70, 0, 5, 0, 0, 0, 0, 10] + [UInt8](repeating: 0, count: 10))
            }
        }
        server.start()
        defer { server.stop() }
        let c = try RawClient(path: path)
        c.send(SGBridgeProtocol.encode(request: SGRequest(id: 1, cdb: [0x28, 1, 0, 0, 0, 0, 0, 0, 1, 0], direction: .fromDevice, transferLength: 512)))
        c.send(SGBridgeProtocol.encode(request: SGRequest(id: 2, cdb: [0x2A, 2, 0, 0, 0, 0, 0, 0, 1, 0], direction: .toDevice,
                                                           dataOut: [UInt8](repeating: 1, count: 512))))
        c.send(SGBridgeProtocol.encode(request: SGRequest(id: 3, cdb: [0x00, 3, 0, 0, 0, 0])))
        var seen: [UInt64] = []
        for _ in 0..<3 {
            let r = try #require(try await offPool { c.receiveReply() })
            seen.append(r.header.id)
            switch r.header.id {
            case 1:
                // Data-in is cut to the transfer length.
                let cut = r.data == [UInt8](repeating: 1, count: 512)
                #expect(cut)
                #expect(r.header.status == 0)
            case 2: #expect(r.data.isEmpty && r.header.status == 0)
            case 3:
                #expect(r.header.status == 2)
                #expect(r.sense.count == 18 && r.sense[2] == 5)
            default: Issue.record("unexpected id \(r.header.id)")
            }
        }
        #expect(Set(seen) == [1, 2, 3])
        #expect(seen.last == 1)
    }

    /// A malformed frame closes that connection (with a log line); the server keeps serving.
    @Test func malformedRequestClosesOnlyItsConnection() async throws {
        let path = uniqueSocketPath()
        let lines = Locked<[String]>([])
        let server = try SGBridgeServer(socketPath: path, log: { l in lines.withLock { $0.append(l) } }) { _ in .good() }
        server.start()
        defer { server.stop() }
        let bad = try RawClient(path: path)
        bad.send([UInt8](repeating: 0xEE, count: 64))
        #expect(try await offPool { bad.receive(1) } == nil)
        #expect(lines.withLock { $0 }.contains { $0.contains("malformed request") && $0.contains("bad magic") })
        let good = try RawClient(path: path)
        good.send(SGBridgeProtocol.encode(request: SGRequest(id: 77, cdb: [0, 0, 0, 0, 0, 0])))
        let r = try #require(try await offPool { good.receiveReply() })
        #expect(r.header.id == 77 && r.header.status == 0)
    }

    /// stop() unlinks the socket and ends open connections; a second server replaces a stale file
    /// but refuses a live one.
    @Test func stopEndsConnectionsAndUnlinks() async throws {
        let path = uniqueSocketPath()
        let server = try SGBridgeServer(socketPath: path) { _ in .good() }
        server.start()
        #expect(throws: SGBridgeError.addressInUse(path)) { _ = try SGBridgeServer(socketPath: path) { _ in .good() } }
        let c = try RawClient(path: path)
        // (The refused second server's probe connection comes and goes too.)
        for _ in 0..<300 where server.connectionCount != 1 { usleep(10_000) }
        #expect(server.connectionCount == 1)
        server.stop()
        #expect(try await offPool { c.receive(1) } == nil)
        #expect(access(path, F_OK) != 0)
        // A stale socket file (no listener) is replaced.
        let stale = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in p.copyBytes(from: path.utf8); p[path.utf8.count] = 0 }
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(stale, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(stale)
        #expect(access(path, F_OK) == 0)
        let again = try SGBridgeServer(socketPath: path) { _ in .good() }
        again.stop()
        #expect(access(path, F_OK) != 0)
    }

    @Test func environmentAndShimLocation() throws {
        let e = SGBridgeEnvironment(devicePath: "/dev/sg-fcinit0", socketPath: "/tmp/x.sock", shimPath: "/opt/lib/libfcinit-sgshim.so")
        let merged = e.applied(to: ["PATH": "/usr/bin", "LD_PRELOAD": "/usr/lib/libfoo.so"])
        #expect(merged["LD_PRELOAD"] == "/opt/lib/libfcinit-sgshim.so:/usr/lib/libfoo.so")
        #expect(merged["FCINIT_DEVICE"] == "/dev/sg-fcinit0")
        #expect(merged["FCINIT_SGBRIDGE"] == "/tmp/x.sock")
        #expect(merged["PATH"] == "/usr/bin")
        #expect(merged["FCINIT_LUN"] == "0")
        // Several paths: _1, _2 … beside the first; stale paths of an enclosing exec are dropped.
        let multi = SGBridgeEnvironment(devices: [.init(path: "/dev/sg-fcinit3", socketPath: "/tmp/a.sock", lun: 3),
                                                  .init(path: "/dev/sg-fcinit3-path1", socketPath: "/tmp/b.sock", lun: 3)],
                                        shimPath: "/opt/lib/libfcinit-sgshim.so")
        let m = multi.applied(to: ["FCINIT_DEVICE_2": "/dev/old", "FCINIT_SGBRIDGE_2": "/tmp/old.sock"])
        #expect(m["FCINIT_DEVICE"] == "/dev/sg-fcinit3" && m["FCINIT_SGBRIDGE"] == "/tmp/a.sock" && m["FCINIT_LUN"] == "3")
        #expect(m["FCINIT_DEVICE_1"] == "/dev/sg-fcinit3-path1" && m["FCINIT_SGBRIDGE_1"] == "/tmp/b.sock" && m["FCINIT_LUN_1"] == "3")
        #expect(m["FCINIT_DEVICE_2"] == nil && m["FCINIT_SGBRIDGE_2"] == nil)
        #expect(SGBridgeProtocol.variable("FCINIT_DEVICE", path: 0) == "FCINIT_DEVICE")
        let candidates = SGBridgeEnvironment.shimCandidates(environment: [:], executablePath: "/w/.build/x86_64-unknown-linux-gnu/debug/fcinit",
                                                            currentDirectory: "/w")
        #expect(candidates.first == "/w/.build/x86_64-unknown-linux-gnu/debug/libfcinit-sgshim.so")
        #expect(candidates.contains("/w/.build/debug/libfcinit-sgshim.so"))
        #expect(candidates.contains("/w/.build/release/libfcinit-sgshim.so"))
        // The test binary sits next to the built products.
        let found = try #require(shimPath, "libfcinit-sgshim.so is not built (swift build --product fcinit-sgshim)")
        #expect(found.hasSuffix("/libfcinit-sgshim.so"))
    }
}
