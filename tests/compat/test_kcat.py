"""kcat (librdkafka's command-line client) against a real broker process."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaAdminClient

from tests.compat.helpers import CODECS, PARTITIONS, TIMEOUT_S, keyed_records, unique_topic
from tests.support.broker import BrokerProcess

KCAT = shutil.which("kcat")
TIMEOUT_MS = int(TIMEOUT_S * 1000)

if KCAT is None:
    pytest.skip("kcat is not installed (Debian package kcat)", allow_module_level=True)


@pytest.fixture(scope="module")
def admin(shared_broker: BrokerProcess) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(
        bootstrap_servers=shared_broker.bootstrap, request_timeout_ms=TIMEOUT_MS
    )
    yield client
    client.close()


@pytest.fixture
def topic(admin: KafkaAdminClient) -> Iterator[str]:
    name = unique_topic("kcat")
    admin.create_topics(
        {name: {"num_partitions": PARTITIONS, "replication_factor": 1}}, timeout_ms=TIMEOUT_MS
    )
    yield name
    admin.delete_topics([name], timeout_ms=TIMEOUT_MS)


def kcat(broker: BrokerProcess, *args: str, stdin: str | None = None) -> str:
    """Run kcat against the broker; fail the test on a non-zero exit, return stdout."""
    return _run_kcat(broker, *args, stdin=stdin).stdout


def _run_kcat(
    broker: BrokerProcess, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    assert KCAT is not None
    done = subprocess.run(
        [KCAT, "-b", broker.bootstrap, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S * 2,
        check=False,
    )
    assert done.returncode == 0, f"kcat {' '.join(args)} failed:\n{done.stderr}"
    return done


def _keyed_lines() -> list[str]:
    return [f"{r.key.decode()}:{r.value.decode()}" for r in keyed_records()]


def _consume(broker: BrokerProcess, topic: str) -> list[dict[str, Any]]:
    output = kcat(broker, "-C", "-t", topic, "-o", "beginning", "-e", "-J", "-q")
    return [json.loads(line) for line in output.splitlines()]


@pytest.mark.parametrize("codec", CODECS)
def test_keyed_lines_round_trip_with_each_codec(
    shared_broker: BrokerProcess, topic: str, codec: str
) -> None:
    lines = _keyed_lines()
    produced = _run_kcat(
        shared_broker,
        "-P",
        "-t",
        topic,
        "-K:",
        "-z",
        codec,
        "-d",
        "msg",
        stdin="\n".join(lines) + "\n",
    )
    # librdkafka compresses only if ApiVersions makes it believe the broker can decompress.
    sent_as = "uncompressed" if codec == "none" else codec
    assert f", {sent_as})" in produced.stderr, produced.stderr
    assert "not compressing batch" not in produced.stderr

    printed = kcat(shared_broker, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%k=%s\n")
    assert sorted(printed.splitlines()) == sorted(line.replace(":", "=", 1) for line in lines)

    messages = _consume(shared_broker, topic)
    partition_of_key: dict[str, int] = {}
    for message in messages:
        key, partition = message["key"], message["partition"]
        assert partition_of_key.setdefault(key, partition) == partition
    for partition in range(PARTITIONS):
        in_partition = [m for m in messages if m["partition"] == partition]
        assert [m["offset"] for m in in_partition] == list(range(len(in_partition)))
        indexes = [int(m["payload"].removeprefix("value-")) for m in in_partition]
        assert indexes == sorted(indexes), f"partition {partition} is out of send order"


def test_headers_round_trip(shared_broker: BrokerProcess, topic: str) -> None:
    kcat(shared_broker, "-P", "-t", topic, "-p", "0", "-H", "trace=abc", stdin="hello\n")
    printed = kcat(
        shared_broker, "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%h|%s\n"
    )
    assert printed.splitlines() == ["trace=abc|hello"]


def test_metadata_listing_shows_the_topic(shared_broker: BrokerProcess, topic: str) -> None:
    listing = json.loads(kcat(shared_broker, "-L", "-J"))
    [described] = [t for t in listing["topics"] if t["topic"] == topic]
    assert sorted(p["partition"] for p in described["partitions"]) == list(range(PARTITIONS))
    assert all(p["leader"] == 1 for p in described["partitions"])
    assert [b["id"] for b in listing["brokers"]] == [1]

    text = kcat(shared_broker, "-L", "-t", topic)
    assert f'topic "{topic}" with {PARTITIONS} partitions:' in text


def test_producing_to_an_unknown_topic_creates_it(
    shared_broker: BrokerProcess, admin: KafkaAdminClient
) -> None:
    name = unique_topic("kcat-auto")
    try:
        kcat(shared_broker, "-P", "-t", name, "-K:", stdin="k:v\n")
        assert name in admin.list_topics()
        assert (
            kcat(shared_broker, "-C", "-t", name, "-o", "beginning", "-e", "-q", "-f", "%k=%s\n")
            == "k=v\n"
        )
    finally:
        admin.delete_topics([name], timeout_ms=TIMEOUT_MS)
