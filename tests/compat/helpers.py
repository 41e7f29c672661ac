"""What every client compatibility test produces and checks, independent of the client."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
PARTITIONS = 3
RECORDS = 60
DISTINCT_KEYS = 7
TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class Keyed:
    """The index-th record a test produces."""

    index: int

    @property
    def key(self) -> bytes:
        return f"key-{self.index % DISTINCT_KEYS}".encode()

    @property
    def value(self) -> bytes:
        return f"value-{self.index}".encode()

    @property
    def headers(self) -> list[tuple[str, bytes]]:
        return [("index", str(self.index).encode())]


@dataclass(frozen=True, slots=True)
class Received:
    """One consumed record, reduced to what the round-trip checks look at."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def unique_topic(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def keyed_records(count: int = RECORDS) -> list[Keyed]:
    return [Keyed(index) for index in range(count)]


def assert_round_trip(
    acknowledged: Mapping[int, tuple[int, int] | None], received: Iterable[Received], count: int
) -> None:
    """Every produced record came back once, intact, where the producer was told it went;
    partitions are dense and in send order, and a key always maps to one partition.

    `acknowledged` maps each index to the (partition, offset) the producer learned, or None
    (acks=0 in aiokafka); an offset of -1 means acks=0 in kafka-python."""
    records = list(received)
    assert len(records) == count, f"received {len(records)} of {count} records"
    partition_of_key: dict[bytes | None, int] = {}
    for record in records:
        assert record.value is not None
        index = int(record.value.removeprefix(b"value-"))
        sent = Keyed(index)
        assert (record.key, record.value, record.headers) == (sent.key, sent.value, sent.headers)
        where = acknowledged[index]
        if where is not None:
            assert where[0] == record.partition
            assert where[1] in (record.offset, -1)
        assert partition_of_key.setdefault(record.key, record.partition) == record.partition
    assert sorted(acknowledged) == list(range(count))
    for partition in range(PARTITIONS):
        in_partition = sorted(
            (r for r in records if r.partition == partition), key=lambda r: r.offset
        )
        assert [r.offset for r in in_partition] == list(range(len(in_partition)))
        indexes = [int(r.value.removeprefix(b"value-")) for r in in_partition if r.value]
        assert indexes == sorted(indexes), f"partition {partition} is out of send order"
