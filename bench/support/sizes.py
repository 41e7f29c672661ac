"""How much work each scenario does: the full run fits ~10 minutes on 2 cores, the quick
smoke run ~1-2 minutes."""

from __future__ import annotations

from dataclasses import asdict, dataclass

SMALL_RECORD = 100
LARGE_RECORD = 1024


@dataclass(frozen=True, slots=True)
class Sizes:
    records_100b: int
    records_1kib: int
    latency_seconds: float
    latency_rate: int
    scale_partitions: int
    scale_topics: int
    metadata_samples: int
    group_members: int
    group_partitions: int
    loopback_seconds: float
    disk_mib: int

    def records_for(self, record_bytes: int) -> int:
        return self.records_100b if record_bytes == SMALL_RECORD else self.records_1kib

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


FULL = Sizes(
    records_100b=2_000_000,
    records_1kib=500_000,
    latency_seconds=20.0,
    latency_rate=5_000,
    scale_partitions=10_000,
    scale_topics=100,
    metadata_samples=10,
    group_members=50,
    group_partitions=100,
    loopback_seconds=2.0,
    disk_mib=512,
)

QUICK = Sizes(
    records_100b=200_000,
    records_1kib=50_000,
    latency_seconds=5.0,
    latency_rate=5_000,
    scale_partitions=1_000,
    scale_topics=10,
    metadata_samples=3,
    group_members=10,
    group_partitions=20,
    loopback_seconds=1.0,
    disk_mib=128,
)


def size_label(record_bytes: int) -> str:
    """ "100B", "1KiB": how cases name their record size."""
    return "1KiB" if record_bytes == LARGE_RECORD else f"{record_bytes}B"
