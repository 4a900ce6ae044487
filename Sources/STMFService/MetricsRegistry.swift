import Foundation
import Metrics
import Prometheus
import STMF

/// The service's metrics, served as Prometheus text on `GET /metrics`: command counters and
/// latency histograms kept as commands complete (a Prometheus registry), then gauges and
/// counters read when scraped (LU, target and session state, FC port link errors, the fabric's
/// counters, build info; `ServiceCore.metricFamilies`). Every family has `# HELP` and `# TYPE`.
public final class MetricsRegistry: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory

    /// Command latency buckets from 10 µs to 10 s.
    static let latencyBuckets: [Duration] = [
        .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250),
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2), .seconds(5), .seconds(10),
    ]

    public init() {
        registry = PrometheusCollectorRegistry()
        var f = PrometheusMetricsFactory(registry: registry)
        f.defaultDurationHistogramBuckets = Self.latencyBuckets
        factory = f
    }

    /// Makes this registry the process-wide swift-metrics backend (for instruments made through
    /// swift-metrics elsewhere; swift-metrics allows that once per process).
    public func bootstrap() {
        MetricsSystem.bootstrap(factory)
    }

    /// The registry's families (what commands have counted so far).
    public func prometheusText() -> String { registry.emitToString() }
}

/// Per-LU, per-port command statistics: commands (all, reads, writes), bytes read and written,
/// errors, and latency histograms (all, reads, writes), labelled by LU GUID and target port;
/// per initiator too when STMF names the initiator of the I_T_L nexus.
public struct CommandMetrics: TaskObserver {
    let registry: PrometheusCollectorRegistry

    public init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    public func recorder(lu: LUGUID, targetPort: PortIdentifier) -> any TaskRecorder {
        Recorder(registry: registry, lu: lu.description, port: targetPort.description, initiator: nil)
    }

    public func recorder(lu: LUGUID, targetPort: PortIdentifier, initiator: PortIdentifier) -> any TaskRecorder {
        Recorder(registry: registry, lu: lu.description, port: targetPort.description, initiator: initiator.description)
    }

    struct Recorder: TaskRecorder {
        let commands: Prometheus.Counter
        let reads: Prometheus.Counter
        let writes: Prometheus.Counter
        let readBytes: Prometheus.Counter
        let writtenBytes: Prometheus.Counter
        let errors: Prometheus.Counter
        let latency: DurationHistogram
        let readLatency: DurationHistogram
        let writeLatency: DurationHistogram
        /// Per initiator (I_T) when the nexus's initiator is known.
        let initiator: (commands: Prometheus.Counter, reads: Prometheus.Counter, writes: Prometheus.Counter, readBytes: Prometheus.Counter, writtenBytes: Prometheus.Counter, errors: Prometheus.Counter)?

        init(registry r: PrometheusCollectorRegistry, lu: String, port: String, initiator: String?) {
            let dims = [("lu", lu), ("target", port)]
            commands = r.makeCounter(name: "stmf_commands_total", labels: dims,
                                     help: "SCSI commands an LU completed through a target port")
            reads = r.makeCounter(name: "stmf_read_commands_total", labels: dims,
                                  help: "Commands that moved data from the LU to the initiator (data-in)")
            writes = r.makeCounter(name: "stmf_write_commands_total", labels: dims,
                                   help: "Commands that moved data from the initiator to the LU (data-out)")
            readBytes = r.makeCounter(name: "stmf_read_bytes_total", labels: dims, help: "Bytes sent to initiators (data-in)")
            writtenBytes = r.makeCounter(name: "stmf_written_bytes_total", labels: dims, help: "Bytes received from initiators (data-out)")
            errors = r.makeCounter(name: "stmf_command_errors_total", labels: dims,
                                   help: "Commands the LU completed with a status other than GOOD")
            latency = r.makeDurationHistogram(name: "stmf_command_duration_seconds", labels: dims, buckets: MetricsRegistry.latencyBuckets,
                                              help: "Time from a command's receipt to its completion")
            readLatency = r.makeDurationHistogram(name: "stmf_read_duration_seconds", labels: dims, buckets: MetricsRegistry.latencyBuckets,
                                                  help: "Time from a data-in command's receipt to its completion")
            writeLatency = r.makeDurationHistogram(name: "stmf_write_duration_seconds", labels: dims, buckets: MetricsRegistry.latencyBuckets,
                                                   help: "Time from a data-out command's receipt to its completion")
            if let initiator {
                let i = [("target", port), ("initiator", initiator)]
                self.initiator = (
                    r.makeCounter(name: "stmf_initiator_commands_total", labels: i, help: "SCSI commands completed for an initiator (I_T nexus)"),
                    r.makeCounter(name: "stmf_initiator_read_commands_total", labels: i, help: "Data-in commands completed for an initiator"),
                    r.makeCounter(name: "stmf_initiator_write_commands_total", labels: i, help: "Data-out commands completed for an initiator"),
                    r.makeCounter(name: "stmf_initiator_read_bytes_total", labels: i, help: "Bytes sent to an initiator"),
                    r.makeCounter(name: "stmf_initiator_written_bytes_total", labels: i, help: "Bytes received from an initiator"),
                    r.makeCounter(name: "stmf_initiator_command_errors_total", labels: i,
                                  help: "Commands completed for an initiator with a status other than GOOD"))
            } else {
                self.initiator = nil
            }
        }

        func record(direction: DataDirection, bytes: Int, status: SCSIStatus, nanoseconds: UInt64) {
            commands.increment()
            initiator?.commands.increment()
            let ns = Int64(clamping: nanoseconds)
            switch direction {
            case .write:
                writes.increment(); initiator?.writes.increment()
                if bytes > 0 { writtenBytes.increment(by: Int64(bytes)); initiator?.writtenBytes.increment(by: Int64(bytes)) }
                writeLatency.recordNanoseconds(ns)
            case .read:
                reads.increment(); initiator?.reads.increment()
                if bytes > 0 { readBytes.increment(by: Int64(bytes)); initiator?.readBytes.increment(by: Int64(bytes)) }
                readLatency.recordNanoseconds(ns)
            default:
                if bytes > 0 { readBytes.increment(by: Int64(bytes)); initiator?.readBytes.increment(by: Int64(bytes)) }
            }
            if status != .good { errors.increment(); initiator?.errors.increment() }
            latency.recordNanoseconds(ns)
        }
    }
}

/// Prometheus text exposition (format 0.0.4) of families made when scraped.
struct MetricFamily {
    enum Kind: String { case gauge, counter }
    var name: String
    var help: String
    var kind: Kind
    var samples: [(labels: [(String, String)], value: Double)] = []

    init(_ name: String, _ kind: Kind, _ help: String) {
        self.name = name; self.kind = kind; self.help = help
    }

    mutating func add(_ labels: [(String, String)], _ value: Double) { samples.append((labels, value)) }

    static func escapeLabel(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func escapeHelp(_ s: String) -> String {
        s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    static func format(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    /// Nothing for a family without samples (a scrape lists what exists).
    var text: String {
        guard !samples.isEmpty else { return "" }
        var s = "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
        for (labels, value) in samples {
            s += name
            if !labels.isEmpty {
                s += "{" + labels.map { "\($0.0)=\"\(Self.escapeLabel($0.1))\"" }.joined(separator: ",") + "}"
            }
            s += " " + Self.format(value) + "\n"
        }
        return s
    }
}
