import FCFabric
import FCTarget
import STMF
import STMFAPI

/// What stmfd is built from, for `stmf_build_info`.
public enum BuildInfo {
    public static let version = STMFVersion.current
    public static var swift: String {
        #if swift(>=6.3)
        "6.3"
        #elseif swift(>=6.2)
        "6.2"
        #elseif swift(>=6.1)
        "6.1"
        #else
        "6.0"
        #endif
    }
}

/// The families `GET /metrics` reads when it is scraped.
extension ServiceCore {
    public func metricFamilies() -> String {
        var build = MetricFamily("stmf_build_info", .gauge, "stmfd's version and the Swift it was built with (always 1)")
        build.add([("version", BuildInfo.version), ("swift", BuildInfo.swift)], 1)

        var points = MetricFamily("stmf_restore_points", .gauge, "Configuration restore points kept (stmfadm list-backups)")
        if restorePoints != nil { points.add([], Double(backups().count)) }

        var luOnline = MetricFamily("stmf_lu_online", .gauge, "1 when the logical unit is online, 0 when it is not")
        var luAvailable = MetricFamily("stmf_lu_available", .gauge,
                                       "1 when the logical unit's backing store is open, 0 when it could not be (list-lu -v says why)")
        var luSize = MetricFamily("stmf_lu_size_bytes", .gauge, "Capacity of the logical unit")
        var luViews = MetricFamily("stmf_lu_view_entries", .gauge, "View entries of the logical unit")
        for lu in listLUs() {
            let l = [("lu", lu.guid), ("provider", lu.provider)]
            luOnline.add(l, lu.operationalStatus == "Online" ? 1 : 0)
            luAvailable.add(l, lu.reason == nil ? 1 : 0)
            luSize.add(l, Double(lu.size))
            luViews.add(l, Double(lu.viewEntryCount))
        }

        var targetOnline = MetricFamily("stmf_target_online", .gauge, "1 when the target port is online, 0 when it is not")
        var targetSessions = MetricFamily("stmf_target_sessions", .gauge, "Sessions (I_T nexuses) logged in to the target port")
        for t in targets() {
            targetOnline.add([("target", t.name), ("provider", t.providerName)], t.operationalStatus == "Online" ? 1 : 0)
            targetSessions.add([("target", t.name)], Double(t.sessions.count))
        }
        var inFlight = MetricFamily("stmf_session_tasks_in_flight", .gauge, "Commands of the initiator's session not completed yet")
        var loginTime = MetricFamily("stmf_session_login_time_seconds", .gauge, "When the initiator's session began (Unix time)")
        for s in stmf.allSessions {
            let l = [("target", s.nexus.targetPort.description), ("initiator", s.nexus.initiator.description)]
            inFlight.add(l, Double(s.tasksInFlight))
            loginTime.add(l, s.loginTime)
        }

        var families = [build, points, luOnline, luAvailable, luSize, luViews, targetOnline, targetSessions, inFlight, loginTime]
        families += fcPortFamilies()
        return families.map(\.text).joined()
    }

    /// The emulated FC ports' link state and link error status, and their fabrics' counters.
    func fcPortFamilies() -> [MetricFamily] {
        var linkUp = MetricFamily("stmf_fc_port_link_up", .gauge, "1 when the FC port is logged in to its fabric")
        var exchanges = MetricFamily("stmf_fc_port_open_exchanges", .gauge, "FCP exchanges the port has open")
        var remotes = MetricFamily("stmf_fc_port_remote_ports", .gauge, "Remote ports logged in to the FC port")
        var lesb: [(MetricFamily, (FCLinkErrors) -> UInt32)] = [
            (MetricFamily("stmf_fc_link_failures_total", .counter, "Link failures of the FC port (its link error status block)"), \.linkFailures),
            (MetricFamily("stmf_fc_loss_of_sync_total", .counter, "Losses of synchronization of the FC port"), \.lossOfSync),
            (MetricFamily("stmf_fc_loss_of_signal_total", .counter, "Losses of signal of the FC port"), \.lossOfSignal),
            (MetricFamily("stmf_fc_primitive_sequence_errors_total", .counter, "Primitive sequence protocol errors of the FC port"),
             \.primitiveSequenceProtocolErrors),
            (MetricFamily("stmf_fc_invalid_transmission_words_total", .counter, "Invalid transmission words the FC port received"),
             \.invalidTransmissionWords),
            (MetricFamily("stmf_fc_invalid_crcs_total", .counter, "Frames with an invalid CRC the FC port received"), \.invalidCRCs),
        ]
        var fabricPaths: [String] = []
        for p in emulatedPorts.values.sorted(by: { $0.portName < $1.portName }) {
            let info = fcPortInfo(p)
            let l = [("port", info.portWWN.lowercased())]
            linkUp.add(l, info.state == "online" ? 1 : 0)
            exchanges.add(l, Double(info.openExchanges))
            remotes.add(l, Double(info.remotePorts.count))
            for i in lesb.indices { lesb[i].0.add(l, Double(lesb[i].1(info.linkErrors))) }
            if !fabricPaths.contains(p.fabricPath) { fabricPaths.append(p.fabricPath) }
        }
        let counters: [(String, String, (PortCounters) -> Int)] = [
            ("fcfabric_frames_in_total", "Frames the fabric received from the port", \.framesIn),
            ("fcfabric_frames_out_total", "Frames the fabric delivered to the port", \.framesOut),
            ("fcfabric_frames_dropped_total", "Frames from or to the port the fabric dropped (faults, no route, zoning)", \.framesDropped),
            ("fcfabric_invalid_frames_total", "Invalid frames the fabric received from the port", \.invalidFrames),
            ("fcfabric_crc_errors_total", "Frames with a bad CRC the fabric received from the port", \.crcErrors),
            ("fcfabric_link_failures_total", "Link failures of the port the fabric counted", \.linkFailures),
            ("fcfabric_frames_discarded_total", "Frames for the port discarded at its full egress queue (slow drain)", \.framesDiscarded),
        ]
        var fabric = counters.map { MetricFamily($0.0, .counter, $0.1) }
        var queued = MetricFamily("fcfabric_queued_bytes", .gauge, "Bytes the fabric holds for the port that it has not taken yet")
        var loggedIn = MetricFamily("fcfabric_port_logged_in", .gauge, "1 when the port is logged in to the fabric (FLOGI)")
        var reachable = MetricFamily("fcfabric_up", .gauge, "1 when the fabric of stmfd's emulated ports answers on its control socket")
        for path in fabricPaths {
            guard let reply = try? FabricControl.request(ControlRequest(op: .show), socket: path), let ports = reply.ports else {
                reachable.add([("fabric", path)], 0)
                continue
            }
            reachable.add([("fabric", path)], 1)
            for p in ports {
                let l = [("fabric", path), ("port", p.portName?.lowercased() ?? "index-\(p.index)")]
                for i in counters.indices { fabric[i].add(l, Double(counters[i].2(p.counters))) }
                queued.add(l, Double(p.queuedBytes))
                loggedIn.add(l, p.loggedIn ? 1 : 0)
            }
        }
        return [linkUp, exchanges, remotes] + lesb.map(\.0) + [reachable] + fabric + [queued, loggedIn]
    }
}
