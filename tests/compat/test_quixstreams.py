"""Quix Streams against a real broker: stateful applications with their consumer group,
auto-created output and changelog topics, state recovered from the compacted changelog
after a restart without local state, and event-time windows over record timestamps."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from tests.compat.helpers import unique_topic
from tests.support.broker import BrokerProcess, running_broker

# Quix Streams pins confluent-kafka below the version the rest of the suite needs, so the
# application runs from its own venv, which `make test` creates (.venv-quix).
QUIX_PYTHON = Path(__file__).resolve().parents[2] / ".venv-quix" / "bin" / "python"
if not QUIX_PYTHON.exists():
    pytest.skip(
        "Quix Streams venv missing: `make test` creates .venv-quix (needs PyPI)",
        allow_module_level=True,
    )

TIMEOUT_S = 20.0
APP_TIMEOUT_S = 40.0
APP = Path(__file__).with_name("quix_aggregations.py")
PARTITIONS = 3
KEYS = 5
WINDOW_MS = 10_000
FIRST_TIMESTAMP_MS = 1_700_000_000_000
GROUP_OVERRIDES = {"group.initial.rebalance.delay.ms": "0"}


@pytest.fixture
def group_broker(tmp_path: Path) -> Iterator[BrokerProcess]:
    with running_broker(tmp_path / "broker", GROUP_OVERRIDES) as broker:
        yield broker


def test_running_sum_survives_a_restart_without_local_state(
    group_broker: BrokerProcess, tmp_path: Path
) -> None:
    source, sink, group = _create_source(group_broker)
    amounts = list(range(1, 101))

    _produce(group_broker.bootstrap, source, amounts[:60], first_index=0)
    _run_app(group_broker, "running-sum", group, source, sink, tmp_path / "state-a", count=60)
    # A fresh state dir: the totals so far must come back from the changelog topic.
    _produce(group_broker.bootstrap, source, amounts[60:], first_index=60)
    _run_app(group_broker, "running-sum", group, source, sink, tmp_path / "state-b", count=40)

    outputs = _consume(group_broker.bootstrap, sink, expected=len(amounts))
    totals = {key: [value["total"] for value in values] for key, values in outputs.items()}
    assert totals == _running_sums(amounts)
    admin = AdminClient({"bootstrap.servers": group_broker.bootstrap})
    changelog = ConfigResource("topic", f"changelog__{group}--{source}--default")
    [entries] = [
        future.result(TIMEOUT_S) for future in admin.describe_configs([changelog]).values()
    ]
    assert entries["cleanup.policy"].value == "compact"


def test_tumbling_window_sums_follow_record_timestamps(
    group_broker: BrokerProcess, tmp_path: Path
) -> None:
    source, sink, group = _create_source(group_broker)
    amounts = list(range(1, 31))  # one record a second: three windows per key
    _produce(group_broker.bootstrap, source, amounts, first_index=0)
    # A record per key 100 s on moves every partition's stream time past the third window.
    closing_ms = FIRST_TIMESTAMP_MS + 10 * WINDOW_MS
    _produce(group_broker.bootstrap, source, [0] * KEYS, first_index=0, timestamp_ms=closing_ms)

    windows = 3 * KEYS
    _run_app(group_broker, "tumbling-sum", group, source, sink, tmp_path / "state", windows)

    outputs = _consume(group_broker.bootstrap, sink, expected=windows)
    sums = {key: [(v["start"], v["value"]) for v in values] for key, values in outputs.items()}
    assert sums == _window_sums(amounts)


def _create_source(broker: BrokerProcess) -> tuple[str, str, str]:
    source, sink, group = unique_topic("amounts"), unique_topic("sums"), unique_topic("quix")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(source, PARTITIONS, 1)])[source].result(TIMEOUT_S)
    return source, sink, group


def _run_app(
    broker: BrokerProcess,
    aggregation: str,
    group: str,
    source: str,
    sink: str,
    state_dir: Path,
    count: int,
) -> None:
    arguments = [aggregation, broker.bootstrap, group, source, sink, str(state_dir), str(count)]
    result = subprocess.run(
        [str(QUIX_PYTHON), str(APP), *arguments],
        capture_output=True,
        text=True,
        timeout=APP_TIMEOUT_S,
    )
    assert result.returncode == 0, result.stderr[-4000:]


def _produce(
    bootstrap: str,
    topic: str,
    amounts: list[int],
    first_index: int,
    timestamp_ms: int | None = None,
) -> None:
    """The index-th amount goes to key `sensor-{index % KEYS}`, stamped `index` seconds
    after FIRST_TIMESTAMP_MS unless `timestamp_ms` is given."""
    producer = Producer({"bootstrap.servers": bootstrap})
    for index, amount in enumerate(amounts, start=first_index):
        producer.produce(
            topic,
            key=_key(index).encode(),
            value=json.dumps({"amount": amount}).encode(),
            timestamp=FIRST_TIMESTAMP_MS + 1000 * index if timestamp_ms is None else timestamp_ms,
        )
    assert producer.flush(TIMEOUT_S) == 0


def _consume(bootstrap: str, topic: str, expected: int) -> dict[str, list[dict[str, int]]]:
    """Every key's output values, in the order the application wrote them."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "checker", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    outputs: dict[str, list[dict[str, int]]] = {}
    try:
        for _ in range(expected):
            message = consumer.poll(TIMEOUT_S)
            assert message is not None and message.error() is None, message
            key, value = message.key(), message.value()
            assert key is not None and value is not None
            outputs.setdefault(key.decode(), []).append(json.loads(value))
        assert consumer.poll(1.0) is None  # nothing beyond what was expected
    finally:
        consumer.close()
    return outputs


def _key(index: int) -> str:
    return f"sensor-{index % KEYS}"


def _running_sums(amounts: list[int]) -> dict[str, list[int]]:
    sums: dict[str, list[int]] = {}
    for index, amount in enumerate(amounts):
        previous = sums.setdefault(_key(index), [])
        previous.append((previous[-1] if previous else 0) + amount)
    return sums


def _window_sums(amounts: list[int]) -> dict[str, list[tuple[int, int]]]:
    """(window start, sum) per key, windows in order, for records one second apart."""
    sums: dict[str, dict[int, int]] = {}
    for index, amount in enumerate(amounts):
        timestamp_ms = FIRST_TIMESTAMP_MS + 1000 * index
        start = timestamp_ms - timestamp_ms % WINDOW_MS
        windows = sums.setdefault(_key(index), {})
        windows[start] = windows.get(start, 0) + amount
    return {key: sorted(windows.items()) for key, windows in sums.items()}
