"""The broker's Prometheus metrics, named after Kafka's JMX beans so existing dashboards read.

Each `BrokerMetrics` owns its registry (never the process-global one), so tests and several
in-process brokers can each have their own without name clashes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

PartitionSample = tuple[str, int, int, int, int]
"""(topic, partition, log_end_offset, log_start_offset, size_bytes) for one partition log."""

PartitionSource = Callable[[], Iterable[PartitionSample]]

# From sub-millisecond metadata calls up to long-polling fetches (fetch.max.wait.ms = 500).
_REQUEST_DURATION_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


class BrokerMetrics:
    """Request, topic-throughput and partition-log metrics for one broker."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "kafka_network_requests",
            "Requests handled, by API name and version (RequestMetrics.RequestsPerSec).",
            ["request", "version"],
            registry=self.registry,
        )
        self._request_errors = Counter(
            "kafka_network_request_errors",
            "Responses carrying a non-zero top-level error code (RequestMetrics.ErrorsPerSec).",
            ["request", "error_code"],
            registry=self.registry,
        )
        self._request_duration = Histogram(
            "kafka_network_request_duration_seconds",
            "Time spent handling a request (RequestMetrics.TotalTimeMs).",
            ["request"],
            buckets=_REQUEST_DURATION_BUCKETS,
            registry=self.registry,
        )
        self._bytes_in = Counter(
            "kafka_server_brokertopicmetrics_bytes_in",
            "Record bytes appended by producers (BrokerTopicMetrics.BytesInPerSec).",
            ["topic"],
            registry=self.registry,
        )
        self._messages_in = Counter(
            "kafka_server_brokertopicmetrics_messages_in",
            "Records appended by producers (BrokerTopicMetrics.MessagesInPerSec).",
            ["topic"],
            registry=self.registry,
        )
        self._bytes_out = Counter(
            "kafka_server_brokertopicmetrics_bytes_out",
            "Record bytes returned to fetchers (BrokerTopicMetrics.BytesOutPerSec).",
            ["topic"],
            registry=self.registry,
        )
        self._throttle = Counter(
            "kafka_server_quota_throttle_time_ms",
            "Milliseconds responses were held back because a client quota was exceeded.",
            ["api_key"],
            registry=self.registry,
        )
        self._partition_logs = _PartitionLogCollector()
        self.registry.register(self._partition_logs)

    def record_request(
        self, api_name: str, version: int, duration_s: float, error_code: int
    ) -> None:
        """Count one handled request; error codes of 0 (NONE) are not errors."""
        self._requests.labels(request=api_name, version=str(version)).inc()
        self._request_duration.labels(request=api_name).observe(duration_s)
        if error_code != 0:
            self._request_errors.labels(request=api_name, error_code=str(error_code)).inc()

    def record_produce(self, topic: str, bytes_in: int, messages: int) -> None:
        self._bytes_in.labels(topic=topic).inc(bytes_in)
        self._messages_in.labels(topic=topic).inc(messages)

    def record_fetch(self, topic: str, bytes_out: int) -> None:
        self._bytes_out.labels(topic=topic).inc(bytes_out)

    def record_throttle(self, api_key: int, throttle_ms: int) -> None:
        self._throttle.labels(api_key=str(api_key)).inc(throttle_ms)

    def set_partition_source(self, source: PartitionSource) -> None:
        """Install the callable read at every scrape for per-partition log gauges."""
        self._partition_logs.source = source


class _PartitionLogCollector(Collector):
    """Per-partition log gauges, read from the source at scrape time so they are never stale."""

    def __init__(self) -> None:
        self.source: PartitionSource | None = None

    def describe(self) -> Iterator[Metric]:
        # Declares the names without calling the source (the registry calls this on register).
        yield from _empty_families()

    def collect(self) -> Iterator[Metric]:
        end_offset, start_offset, size = _empty_families()
        source = self.source
        if source is not None:
            try:
                samples = list(source())
            except Exception:
                # A failing source must not take the request metrics down with it.
                log.warning("partition metrics source failed; omitting log gauges", exc_info=True)
                samples = []
            for topic, partition, log_end_offset, log_start_offset, size_bytes in samples:
                labels = [topic, str(partition)]
                end_offset.add_metric(labels, log_end_offset)
                start_offset.add_metric(labels, log_start_offset)
                size.add_metric(labels, size_bytes)
        yield end_offset
        yield start_offset
        yield size


def _empty_families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
    labels = ["topic", "partition"]
    return (
        GaugeMetricFamily(
            "kafka_log_log_end_offset",
            "Offset the next record will get (Log.LogEndOffset).",
            labels=labels,
        ),
        GaugeMetricFamily(
            "kafka_log_log_start_offset",
            "Earliest offset still in the log (Log.LogStartOffset).",
            labels=labels,
        ),
        GaugeMetricFamily(
            "kafka_log_size_bytes", "Bytes on disk across all segments (Log.Size).", labels=labels
        ),
    )
