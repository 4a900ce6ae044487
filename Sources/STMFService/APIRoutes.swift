import Foundation
import Hummingbird
import STMFAPI

extension ServiceError: HTTPResponseError {
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: httpStatus) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = (try? JSONEncoder.sorted.encode(api)) ?? Data("{}".utf8)
        return Response(status: HTTPResponse.Status(code: httpStatus), headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// JSON responses for the API's Codable models.
struct JSON<T: Encodable & Sendable>: ResponseGenerator {
    var value: T
    var status: HTTPResponse.Status = .ok
    init(_ value: T, status: HTTPResponse.Status = .ok) { self.value = value; self.status = status }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        let data = try enc.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}


/// Largest JSON request body: the biggest request the API takes (a create-lu with every
/// property) is a few KiB.
let maxJSONBody = 1 << 20
/// Largest export document an import takes (some 100,000 LUs with views).
let maxImportBody = 64 << 20

/// One import body at a time: an import holds its document in memory (up to `maxImportBody`,
/// and a copy while it decodes), so concurrent imports would multiply that by the connection
/// limit. Later imports wait their turn before their body is read; the imports are applied one
/// after another by the service core anyway.
actor ImportGate {
    static let shared = ImportGate()
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func acquire() async {
        if !busy { busy = true; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
    }

    func withTurn<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        do {
            let r = try await body()
            release()
            return r
        } catch {
            release()
            throw error
        }
    }
}

extension Request {
    /// Collects the body up to `limit` bytes: a larger one is refused with 413 before more of it
    /// is held in memory.
    mutating func body(upTo limit: Int) async throws -> ByteBuffer {
        if let length = headers[.contentLength].flatMap(Int.init), length > limit {
            // Read and drop what the client sends (nothing is kept, and at most 256 MiB is
            // read) so that it finishes writing and reads the answer.
            var dropped = 0
            for try await chunk in body {
                dropped += chunk.readableBytes
                if dropped > 256 << 20 { break }
            }
            throw ServiceError(413, "BODY_TOO_LARGE", "request body of \(length) bytes is larger than the \(limit) this request takes")
        }
        do { return try await collectBody(upTo: limit) } catch let e as HTTPError where e.status == .contentTooLarge {
            throw ServiceError(413, "BODY_TOO_LARGE", "request body is larger than the \(limit) bytes this request takes")
        } catch {
            throw ServiceError.badRequest("request body unreadable: \(error)")
        }
    }

    /// Decodes a JSON body, refusing malformed input with a 400 and a large one with a 413.
    mutating func json<T: Decodable>(_ type: T.Type) async throws -> T {
        let buffer = try await body(upTo: maxJSONBody)
        do { return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView)) } catch {
            throw ServiceError.badRequest("malformed JSON body for \(T.self): \(error)", code: "MALFORMED_REQUEST")
        }
    }

    /// The raw body of an import.
    mutating func rawBody() async throws -> [UInt8] {
        Array(try await body(upTo: maxImportBody).readableBytesView)
    }

    func flag(_ name: String) -> Bool {
        guard let v = uri.queryParameters.get(name) else { return false }
        return v == "1" || v == "true" || v == "yes"
    }
}

extension Parameters {
    func string(_ name: String) throws -> String {
        guard let v = get(name) else { throw ServiceError.badRequest("missing path parameter \(name)") }
        return v.removingPercentEncoding ?? v
    }
}

/// The management API (documented in docs/openapi.yaml).
enum APIRoutes {
    static func router(core: ServiceCore, metrics: MetricsRegistry) -> Router<STMFRequestContext> {
        let r = Router(context: STMFRequestContext.self)

        r.get("/v1/state") { _, _ in JSON(await core.state()) }

        // Host groups / target groups
        for (path, host) in [("host-groups", true), ("target-groups", false)] {
            r.get("/v1/\(path)") { _, _ in JSON(host ? await core.hostGroups() : await core.targetGroups()) }
            r.post("/v1/\(path)") { req, _ in
                var req = req
                let body = try await req.json(CreateGroupRequest.self)
                try await core.createGroup(body.name, host: host)
                return JSON(GroupInfo(name: body.name, members: []), status: .created)
            }
            r.delete("/v1/\(path)/:name") { _, ctx in
                try await core.deleteGroup(try ctx.parameters.string("name"), host: host)
                return JSON(EmptyResponse())
            }
            r.post("/v1/\(path)/:name/members") { req, ctx in
                var req = req
                let body = try await req.json(GroupMemberRequest.self)
                try await core.addGroupMembers(try ctx.parameters.string("name"), body.members, host: host)
                return JSON(EmptyResponse())
            }
            r.post("/v1/\(path)/:name/members/remove") { req, ctx in
                var req = req
                let body = try await req.json(GroupMemberRequest.self)
                try await core.removeGroupMembers(try ctx.parameters.string("name"), body.members, host: host)
                return JSON(EmptyResponse())
            }
        }

        // Views
        r.get("/v1/views") { _, _ in JSON(await core.allViews()) }
        r.get("/v1/lus/:guid/views") { _, ctx in JSON(try await core.views(lu: try ctx.parameters.string("guid"))) }
        r.post("/v1/lus/:guid/views") { req, ctx in
            var req = req
            let body = try await req.json(AddViewRequest.self)
            return JSON(try await core.addView(lu: try ctx.parameters.string("guid"), body), status: .created)
        }
        r.post("/v1/lus/:guid/views/remove") { req, ctx in
            var req = req
            let body = try await req.json(RemoveViewsRequest.self)
            try await core.removeViews(lu: try ctx.parameters.string("guid"), entries: body.all ? nil : body.entries)
            return JSON(EmptyResponse())
        }

        // Targets
        r.get("/v1/targets") { _, _ in JSON(await core.targets()) }
        r.post("/v1/targets/:name/online") { _, ctx in
            try await core.setTargetState(try ctx.parameters.string("name"), online: true); return JSON(EmptyResponse())
        }
        r.post("/v1/targets/:name/offline") { _, ctx in
            try await core.setTargetState(try ctx.parameters.string("name"), online: false); return JSON(EmptyResponse())
        }

        // FC ports (fcadm, fcinfo)
        r.get("/v1/fc/ports") { _, _ in JSON(await core.fcPorts()) }
        r.post("/v1/fc/emulated-ports") { req, _ in
            var req = req
            let body = try await req.json(CreateEmulatedPortRequest.self)
            return JSON(try await core.createEmulatedPort(body), status: .created)
        }
        r.delete("/v1/fc/emulated-ports/:wwn") { _, ctx in
            try await core.deleteEmulatedPort(try ctx.parameters.string("wwn")); return JSON(EmptyResponse())
        }
        r.get("/v1/lio/loop-ports") { _, _ in JSON(await core.lioPorts()) }
        r.post("/v1/lio/loop-ports") { req, _ in
            var req = req
            let body = try await req.json(CreateLoopPortRequest.self)
            return JSON(try await core.createLoopPort(body), status: .created)
        }
        r.delete("/v1/lio/loop-ports/:wwn") { _, ctx in
            try await core.deleteLoopPort(try ctx.parameters.string("wwn")); return JSON(EmptyResponse())
        }
        r.get("/v1/fc/bindings") { _, _ in JSON(await core.hbaBindings()) }
        r.post("/v1/fc/bindings") { req, _ in
            var req = req
            let body = try await req.json(BindHBAPortRequest.self)
            return JSON(try await core.bindHBAPort(body.portWWN), status: .created)
        }
        r.delete("/v1/fc/bindings/:wwn") { _, ctx in
            JSON(try await core.unbindHBAPort(try ctx.parameters.string("wwn")))
        }

        // Metrics (Prometheus text format)
        r.get("/metrics") { _, _ in
            let text = metrics.prometheusText() + (await core.metricFamilies())
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: text)))
        }

        addLURoutes(r, core: core)
        addConfigRoutes(r, core: core)
        // Added last, so it wraps only the router's not-found responder (each route's chain was
        // built as it was added): a request no route took gets a JSON refusal, not an empty 404.
        r.add(middleware: UnroutedMiddleware(routes: RouteTable(r.routes.map { ($0.method, $0.path.description) })))
        return r
    }
}

/// The routes the router has, to tell a path it has under another method from one it has not.
struct RouteTable: Sendable {
    /// Path patterns (`/v1/lus/{guid}`) as components, and the methods each takes.
    let entries: [(components: [Substring], methods: [HTTPRequest.Method])]

    init(_ routes: [(HTTPRequest.Method, String)]) {
        var byPath: [String: [HTTPRequest.Method]] = [:]
        for (method, path) in routes { byPath[path, default: []].append(method) }
        entries = byPath.sorted { $0.key < $1.key }.map { path, methods in
            (path.split(separator: "/"), methods.sorted { $0.rawValue < $1.rawValue })
        }
    }

    /// The methods the router takes for `path`: those of the pattern it would pick, where a
    /// literal component wins over a capture (`/v1/lus/import` over `/v1/lus/{guid}`), as the
    /// router's trie does. Empty when no pattern matches.
    func methods(for path: String) -> [HTTPRequest.Method] {
        let parts = path.split(separator: "/")
        var best: (rank: [Int], methods: [HTTPRequest.Method])?
        for e in entries where e.components.count == parts.count {
            // 1 for each literal component, 0 for each capture: the greatest rank is the pick.
            var rank: [Int] = []
            for (pattern, part) in zip(e.components, parts) {
                if pattern.hasPrefix("{") { rank.append(0) } else if pattern == part { rank.append(1) } else { break }
            }
            guard rank.count == parts.count else { continue }
            if best.map({ $0.rank.lexicographicallyPrecedes(rank) }) ?? true { best = (rank, e.methods) }
        }
        return best?.methods ?? []
    }
}

/// Answers what no route took: 405 METHOD_NOT_ALLOWED with an `Allow` header for a path the API
/// has under other methods, else 404 NOT_FOUND, both with the API's JSON error body.
struct UnroutedMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as HTTPError where e.status == .notFound && [nil, "NotFound"].contains(context.endpointPath) {
            let allowed = routes.methods(for: request.uri.path)
            if allowed.isEmpty {
                throw ServiceError(404, "NOT_FOUND", "\(request.uri.path): no such resource")
            }
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            var response = try ServiceError(405, "METHOD_NOT_ALLOWED", "\(request.uri.path) takes \(allow), not \(request.method.rawValue)")
                .response(from: request, context: context)
            response.headers[.allow] = allow
            return response
        }
    }
}
