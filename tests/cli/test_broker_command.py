"""`strom broker start`: Kafka's start contract, as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from tests.support.broker import BrokerProcess
from tests.support.ports import free_port

TIMEOUT_S = 30


def _start(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "strom.cli", "broker", "start", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("num.partitions=zero", "num.partitions"),
        ("listeners=nonsense", "listeners"),
        ("log.segment.bytes=1", "log.segment.bytes"),
        ("not-a-pair", "not-a-pair"),
        ("controller.quorum.voters=x@host:9093", "controller.quorum.voters"),
        ("controller.quorum.voters=1@host", "controller.quorum.voters"),
    ],
)
def test_bad_config_exits_2_with_one_line_naming_the_key(override: str, key: str) -> None:
    result = _start("--override", override)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("strom: invalid config") and key in lines[0]


def test_unreadable_config_file_exits_2(tmp_path: Path) -> None:
    result = _start("--config", str(tmp_path / "missing.properties"))
    assert result.returncode == 2
    assert "--config" in result.stderr


def test_properties_file_starts_a_broker_and_sigterm_stops_it_cleanly(tmp_path: Path) -> None:
    port = free_port()
    properties = tmp_path / "server.properties"
    properties.write_text(
        "\n".join(
            [
                "node.id=7",
                f"listeners=PLAINTEXT://127.0.0.1:{port}",
                f"log.dirs={tmp_path / 'data'}",
                "num.partitions=2",
                "made.up.key=1",
            ]
        )
    )
    broker = BrokerProcess(tmp_path / "run", {"node.id": "7"})
    broker.port = port
    broker.command = lambda: [  # type: ignore[method-assign]
        sys.executable,
        "-m",
        "strom.cli",
        "broker",
        "start",
        "--config",
        str(properties),
    ]
    broker.start()
    try:
        metadata = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10)
        assert list(metadata.brokers) == [7]
    finally:
        assert broker.stop() == 0
    log_text = broker.log_text()
    assert "made.up.key" in log_text  # unknown keys are warned about, as Kafka does
    assert "stopped cleanly" in log_text
