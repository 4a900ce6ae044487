import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import STMFAPI
import Synchronization

/// Caps the API's open connections: each holds a descriptor and a task, and a client that
/// opens them without end must not exhaust stmfd. A connection past the cap is answered with
/// 503 TOO_MANY_CONNECTIONS (a complete HTTP response, so the CLI can say why) and closed;
/// the connections already open are not disturbed. Setting a connection up never fails (a
/// failed child channel would end the server's accept loop): the refusal is the handling.
struct ConnectionLimitedHTTP1Channel: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        let inner: HTTP1Channel.Value
        let refused: Bool
        var channel: any Channel { inner.channel }
    }

    final class Counter: Sendable {
        let open = Atomic<Int>(0)
        let refused = Atomic<Int>(0)
        init() {}
    }

    let inner: HTTP1Channel
    let limit: Int
    let counter: Counter

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let refused = counter.open.add(1, ordering: .relaxed).newValue > limit
        if refused { counter.open.subtract(1, ordering: .relaxed) }
        return inner.setup(channel: channel, logger: logger).map { Value(inner: $0, refused: refused) }
            .flatMapErrorThrowing { error in
                if !refused { counter.open.subtract(1, ordering: .relaxed) }
                throw error
            }
    }

    func handle(value: Value, logger: Logger) async {
        guard value.refused else {
            defer { counter.open.subtract(1, ordering: .relaxed) }
            await inner.handle(value: value.inner, logger: logger)
            return
        }
        if counter.refused.add(1, ordering: .relaxed).newValue == 1 {
            logger.warning("API connection refused: \(limit) connections are open (further refusals are not logged)")
        }
        let error = APIError(code: "TOO_MANY_CONNECTIONS",
                             message: "stmfd already has \(limit) API connections open; try again when one has closed")
        let body = (try? JSONEncoder().encode(error)) ?? Data()
        var head = HTTPResponse(status: .serviceUnavailable)
        head.headerFields[.contentType] = "application/json"
        head.headerFields[.contentLength] = "\(body.count)"
        head.headerFields[.connection] = "close"
        try? await value.inner.executeThenClose { inbound, outbound in
            try await outbound.write(.head(head))
            try await outbound.write(.body(ByteBuffer(bytes: body)))
            try await outbound.write(.end(nil))
            // Take in the request the client sent, for at most a second: closing a socket with
            // unread data resets it, and the client could lose the answer.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { for try await part in inbound { if case .end = part { return } } }
                group.addTask { try await Task.sleep(for: .seconds(1)) }
                _ = try await group.next()
                group.cancelAll()
            }
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with at most `limit` connections open at once.
    static func http1(configuration: HTTP1Channel.Configuration, connectionLimit limit: Int) -> HTTPServerBuilder {
        let counter = ConnectionLimitedHTTP1Channel.Counter()
        return .init { responder in
            ConnectionLimitedHTTP1Channel(inner: HTTP1Channel(responder: responder, configuration: configuration),
                                          limit: limit, counter: counter)
        }
    }
}
