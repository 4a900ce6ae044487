import Metrics
import Prometheus

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
