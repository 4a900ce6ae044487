import Hummingbird
import STMF
import STMFAPI

extension APIRoutes {
    static func addLURoutes(_ r: Router<STMFRequestContext>, core: ServiceCore) {
        r.get("/v1/providers") { _, _ in JSON(providerInfo(core.providers)) }
        r.get("/v1/lus") { _, _ in JSON(await core.listLUs()) }
        r.post("/v1/lus") { req, ctx in
            var req = req
            let body = try await req.json(CreateLURequest.self)
            return JSON(try await core.createLU(body, peer: await ctx.peer()), status: .created)
        }
        r.post("/v1/lus/import") { req, ctx in
            var req = req
            let body = try await req.json(ImportLURequest.self)
            return JSON(try await core.importLU(body, peer: await ctx.peer()), status: .created)
        }
        r.post("/v1/lus/modify-file") { req, ctx in
            var req = req
            let body = try await req.json(ModifyLUFileRequest.self)
            return JSON(try await core.modifyLU(file: body.file, body, peer: await ctx.peer()))
        }
        r.get("/v1/lus/:guid") { _, ctx in JSON(try await core.getLU(try ctx.parameters.string("guid"))) }
        r.patch("/v1/lus/:guid") { req, ctx in
            var req = req
            let body = try await req.json(ModifyLURequest.self)
            return JSON(try await core.modifyLU(try ctx.parameters.string("guid"), body))
        }
        r.delete("/v1/lus/:guid") { req, ctx in
            try await core.deleteLU(try ctx.parameters.string("guid"), keepViews: req.flag("keepViews"))
            return JSON(EmptyResponse())
        }
        r.post("/v1/lus/:guid/online") { _, ctx in
            try await core.setLUState(try ctx.parameters.string("guid"), online: true); return JSON(EmptyResponse())
        }
        r.post("/v1/lus/:guid/offline") { _, ctx in
            try await core.setLUState(try ctx.parameters.string("guid"), online: false); return JSON(EmptyResponse())
        }
    }

    static func addConfigRoutes(_ r: Router<STMFRequestContext>, core: ServiceCore) {
        r.get("/v1/export") { _, _ in
            let bytes = try await core.export()
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        r.post("/v1/import") { req, ctx in
            let replace = req.flag("replace")
            let peer = await ctx.peer()
            // One import body in memory at a time (ImportGate).
            try await ImportGate.shared.withTurn {
                var req = req
                let bytes = try await req.rawBody()
                try await core.importConfiguration(bytes, replace: replace, peer: peer)
            }
            return JSON(EmptyResponse())
        }
        r.get("/v1/backups") { _, _ in JSON(await core.backups()) }
        r.post("/v1/backups/:name/restore") { _, ctx in
            let name = try ctx.parameters.string("name")
            let peer = await ctx.peer()
            return JSON(try await ImportGate.shared.withTurn { try await core.restore(name, peer: peer) })
        }
    }
}

/// The registered providers and the properties each takes, for `GET /v1/providers`.
func providerInfo(_ registry: ProviderRegistry) -> [ProviderInfo] {
    func properties(_ help: [ProviderPropertyHelp]) -> [ProviderInfo.Property] {
        help.map { h in
            ProviderInfo.Property(name: h.name, help: h.help,
                                  operations: LUOperation.allCases.filter(h.operations.contains).map(\.rawValue))
        }
    }
    let lus = registry.logicalUnitProviderNames.compactMap(registry.logicalUnitProvider(named:)).map {
        ProviderInfo(name: $0.name, kind: "logical-unit", summary: $0.summary, properties: properties($0.properties))
    }
    let ports = registry.portProviderNames.compactMap(registry.portProvider(named:)).map {
        ProviderInfo(name: $0.name, kind: "port", summary: $0.summary, properties: properties($0.properties))
    }
    return lus + ports
}
