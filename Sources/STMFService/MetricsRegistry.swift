import Metrics
import Prometheus
import STMF

/// The service's metrics: swift-metrics instruments backed by a Prometheus registry, whose
/// text exposition `/metrics` serves. `bootstrap()` installs the factory process-wide
/// (swift-metrics allows that once per process); tests use a registry of their own.
public final class MetricsRegistry: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: PrometheusMetricsFactory

    public init() {
        registry = PrometheusCollectorRegistry()
        var f = PrometheusMetricsFactory(registry: registry)
        // Command latency buckets from 10 µs to 10 s.
        f.defaultDurationHistogramBuckets = [
            .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250),
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2), .seconds(5), .seconds(10),
        ]
        factory = f
    }

    /// Makes this registry the process-wide swift-metrics backend.
    public func bootstrap() {
        MetricsSystem.bootstrap(factory)
    }

    public func prometheusText() -> String { registry.emitToString() }
}

/// Per-LU, per-port command statistics through swift-metrics: commands, bytes read and
/// written, errors, and a latency histogram, labelled by LU GUID and target port.
public struct CommandMetrics: TaskObserver {
    public init() {}

    public func recorder(lu: LUGUID, targetPort: PortIdentifier) -> any TaskRecorder {
        Recorder(lu: lu.description, port: targetPort.description)
    }

    struct Recorder: TaskRecorder {
        let commands: Metrics.Counter
        let readBytes: Metrics.Counter
        let writtenBytes: Metrics.Counter
        let errors: Metrics.Counter
        let latency: Metrics.Timer

        init(lu: String, port: String) {
            let dims = [("lu", lu), ("target", port)]
            commands = Metrics.Counter(label: "stmf_commands_total", dimensions: dims)
            readBytes = Metrics.Counter(label: "stmf_read_bytes_total", dimensions: dims)
            writtenBytes = Metrics.Counter(label: "stmf_written_bytes_total", dimensions: dims)
            errors = Metrics.Counter(label: "stmf_command_errors_total", dimensions: dims)
            latency = Metrics.Timer(label: "stmf_command_duration_seconds", dimensions: dims)
        }

        func record(direction: DataDirection, bytes: Int, status: SCSIStatus, nanoseconds: UInt64) {
            commands.increment()
            if bytes > 0 {
                if direction == .write { writtenBytes.increment(by: bytes) } else { readBytes.increment(by: bytes) }
            }
            if status != .good { errors.increment() }
            latency.recordNanoseconds(Int64(clamping: nanoseconds))
        }
    }
}
