"""BrokerMetrics: Kafka-named series in its own registry, partition gauges read at scrape time."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from strom.broker.http.metrics import BrokerMetrics


def _scrape(metrics: BrokerMetrics) -> str:
    return generate_latest(metrics.registry).decode()


def _value(text: str, sample_name: str, **labels: str) -> float | None:
    """The value of the one sample with this name and exactly these labels, if any."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == sample_name and sample.labels == labels:
                return sample.value
    return None


def _sample_names(text: str) -> set[str]:
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


def test_record_request_counts_by_api_and_version_and_observes_duration() -> None:
    metrics = BrokerMetrics()
    metrics.record_request("Produce", 9, 0.002, 0)
    metrics.record_request("Produce", 9, 0.004, 0)
    metrics.record_request("Fetch", 12, 0.3, 0)

    text = _scrape(metrics)

    assert _value(text, "kafka_network_requests_total", request="Produce", version="9") == 2
    assert _value(text, "kafka_network_requests_total", request="Fetch", version="12") == 1
    assert _value(text, "kafka_network_request_duration_seconds_count", request="Produce") == 2
    duration_sum = _value(text, "kafka_network_request_duration_seconds_sum", request="Produce")
    assert duration_sum is not None
    assert abs(duration_sum - 0.006) < 1e-9


def test_record_request_counts_errors_only_for_non_zero_codes() -> None:
    metrics = BrokerMetrics()
    metrics.record_request("Metadata", 12, 0.001, 0)
    metrics.record_request("Fetch", 12, 0.001, 1)
    metrics.record_request("Fetch", 12, 0.001, 1)

    text = _scrape(metrics)

    assert _value(text, "kafka_network_request_errors_total", request="Fetch", error_code="1") == 2
    assert (
        _value(text, "kafka_network_request_errors_total", request="Metadata", error_code="0")
        is None
    )


def test_record_produce_and_fetch_count_bytes_and_messages_per_topic() -> None:
    metrics = BrokerMetrics()
    metrics.record_produce("orders", 1000, 10)
    metrics.record_produce("orders", 500, 5)
    metrics.record_produce("payments", 70, 1)
    metrics.record_fetch("orders", 4096)

    text = _scrape(metrics)

    assert _value(text, "kafka_server_brokertopicmetrics_bytes_in_total", topic="orders") == 1500
    assert _value(text, "kafka_server_brokertopicmetrics_messages_in_total", topic="orders") == 15
    assert _value(text, "kafka_server_brokertopicmetrics_bytes_in_total", topic="payments") == 70
    assert _value(text, "kafka_server_brokertopicmetrics_bytes_out_total", topic="orders") == 4096


def test_partition_gauges_are_read_from_the_source_at_scrape_time() -> None:
    metrics = BrokerMetrics()
    partitions = [("orders", 0, 42, 7, 8192)]
    calls = 0

    def source() -> list[tuple[str, int, int, int, int]]:
        nonlocal calls
        calls += 1
        return list(partitions)

    metrics.set_partition_source(source)
    assert calls == 0

    text = _scrape(metrics)
    assert _value(text, "kafka_log_log_end_offset", topic="orders", partition="0") == 42
    assert _value(text, "kafka_log_log_start_offset", topic="orders", partition="0") == 7
    assert _value(text, "kafka_log_size_bytes", topic="orders", partition="0") == 8192

    partitions[0] = ("orders", 0, 50, 7, 9000)
    partitions.append(("orders", 1, 3, 0, 300))
    text = _scrape(metrics)
    assert _value(text, "kafka_log_log_end_offset", topic="orders", partition="0") == 50
    assert _value(text, "kafka_log_log_end_offset", topic="orders", partition="1") == 3
    assert calls == 2


def test_partition_gauges_are_declared_but_empty_without_a_source() -> None:
    text = _scrape(BrokerMetrics())

    for name in ("kafka_log_log_end_offset", "kafka_log_log_start_offset", "kafka_log_size_bytes"):
        assert f"# TYPE {name} gauge" in text
        assert name not in _sample_names(text)


def test_failing_partition_source_does_not_break_the_scrape() -> None:
    metrics = BrokerMetrics()
    metrics.record_request("ApiVersions", 3, 0.0001, 0)

    def source() -> list[tuple[str, int, int, int, int]]:
        raise RuntimeError("replica manager is gone")

    metrics.set_partition_source(source)
    text = _scrape(metrics)

    assert _value(text, "kafka_network_requests_total", request="ApiVersions", version="3") == 1
    assert "kafka_log_log_end_offset" not in _sample_names(text)


def test_instances_have_independent_registries() -> None:
    first, second = BrokerMetrics(), BrokerMetrics()
    first.record_produce("orders", 10, 1)

    assert first.registry is not second.registry
    assert (
        _value(_scrape(first), "kafka_server_brokertopicmetrics_bytes_in_total", topic="orders")
        == 10
    )
    assert (
        _value(_scrape(second), "kafka_server_brokertopicmetrics_bytes_in_total", topic="orders")
        is None
    )
