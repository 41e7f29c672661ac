"""Strom's figures against the baselines of the same run (ratios) and against issue #9's
targets (met, missed, or not measurable)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench.support.results import Figure, Row

SCALE_PARTITIONS = 10_000
BASELINES = (
    "loopback-tcp",
    "disk-fdatasync",
    "python-floor",
    "python-floor-streams",
    "nats-jetstream",
    "redis-streams",
)


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: float | None
    limit: float
    at_least: bool
    unit: str
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.measured is None:
            return None
        return self.measured >= self.limit if self.at_least else self.measured <= self.limit

    def as_dict(self) -> dict[str, object]:
        return {
            "target": self.name,
            "measured": self.measured,
            "limit": self.limit,
            "comparison": ">=" if self.at_least else "<=",
            "unit": self.unit,
            "met": self.met,
            "note": self.note,
        }


def ratios(rows: Sequence[Row]) -> list[dict[str, object]]:
    """Every strom throughput figure (MB/s) divided by each baseline's: the baseline of the
    same record size where it has one per size, else its single figure."""
    table: list[dict[str, object]] = []
    for row in rows:
        if row.system != "strom" or row.mb_per_s is None:
            continue
        for system in BASELINES:
            baseline = _baseline(rows, system, row.record_bytes)
            ratio = None
            if baseline is not None and baseline.mb_per_s:
                ratio = round(row.mb_per_s / baseline.mb_per_s, 3)
            table.append(
                {
                    "scenario": row.scenario,
                    "case": row.case,
                    "baseline": system,
                    "baseline_case": baseline.case if baseline is not None else None,
                    "ratio": ratio,
                }
            )
    return table


def print_ratios(table: Sequence[dict[str, object]]) -> None:
    print("\n== strom MB/s as a ratio to each baseline (same record size where it applies)")
    cases: dict[tuple[object, object], dict[object, object]] = {}
    for entry in table:
        cases.setdefault((entry["scenario"], entry["case"]), {})[entry["baseline"]] = entry["ratio"]
    width = max((len(f"{s} {c}") for s, c in cases), default=10)
    print(f"{'strom case':<{width}}  " + "  ".join(BASELINES))
    for (scenario, case), by_baseline in cases.items():
        cells = [f"{_ratio_cell(by_baseline.get(b)):>{len(b)}}" for b in BASELINES]
        print(f"{f'{scenario} {case}':<{width}}  " + "  ".join(cells))
    print("  '-' = baseline absent or skipped; consume ratios to ingest baselines are context only")


def targets(rows: Sequence[Row]) -> list[Target]:
    find = _finder(rows)
    produce_1k = find("produce", "1KiB p1 acks=1", "mb_per_s")
    produce_100 = find("produce", "100B p1 acks=1", "msgs_per_s")
    measured_partitions = _first(rows, "partitions", "partitions")
    scale_note = ""
    if measured_partitions is not None and measured_partitions < SCALE_PARTITIONS:
        scale_note = f"measured at {measured_partitions:,.0f} partitions, not {SCALE_PARTITIONS:,}"
    return [
        _ratio_target(
            "produce 1KiB p1 acks=1 >= 60% of Python floor",
            produce_1k,
            find("baseline", "1KiB records", "mb_per_s", "python-floor"),
            0.6,
        ),
        _ratio_target(
            "... the same against the streams-reader floor",
            produce_1k,
            find("baseline", "1KiB records", "mb_per_s", "python-floor-streams"),
            0.6,
        ),
        _ratio_target(
            "produce 1KiB p1 acks=1 >= 3x Redis Streams",
            produce_1k,
            find("baseline", "1KiB records", "mb_per_s", "redis-streams"),
            3.0,
        ),
        _ratio_target(
            "produce 1KiB p1 acks=1 >= 8x NATS JetStream",
            produce_1k,
            find("baseline", "1KiB records", "mb_per_s", "nats-jetstream"),
            8.0,
        ),
        _ratio_target(
            "produce 100B p1 acks=1 records/s >= 3x Redis Streams",
            produce_100,
            find("baseline", "100B records", "msgs_per_s", "redis-streams"),
            3.0,
        ),
        _ratio_target(
            "discarding fetch 1KiB >= 50% of loopback TCP",
            find("consume", "1KiB discarding fetch", "mb_per_s"),
            find("baseline", "one stream", "mb_per_s", "loopback-tcp"),
            0.5,
        ),
        Target(
            "e2e p99 at 5,000 msgs/s of 1KiB", _first(rows, "latency", "p99_ms"), 5.0, False, "ms"
        ),
        Target(
            "RF=3 acks=all >= 40% of unreplicated",
            None,
            0.4,
            True,
            "ratio",
            "skipped: replication not implemented (issue #4)",
        ),
        Target(
            "partitions: start-up",
            _first(rows, "partitions", "startup_s"),
            10.0,
            False,
            "s",
            scale_note,
        ),
        Target(
            "partitions: RSS",
            _first(rows, "partitions", "rss_mib"),
            1024.0,
            False,
            "MiB",
            scale_note,
        ),
        Target(
            "partitions: Metadata for all topics (p50)",
            _first(rows, "partitions", "metadata_p50_ms"),
            100.0,
            False,
            "ms",
            scale_note,
        ),
    ]


def print_targets(checks: Sequence[Target]) -> None:
    print("\n== issue #9 targets")
    width = max(len(t.name) for t in checks)
    for check in checks:
        verdict = {True: "met", False: "MISSED", None: "not measured"}[check.met]
        measured = "-" if check.measured is None else f"{check.measured:g}"
        comparison = ">=" if check.at_least else "<="
        limit = f"{comparison} {check.limit:g} {check.unit}"
        note = f"  ({check.note})" if check.note else ""
        print(f"{check.name:<{width}}  {measured:>10}  {limit:<16}  {verdict}{note}")


def _ratio_target(name: str, strom: float | None, baseline: float | None, limit: float) -> Target:
    if strom is None or not baseline:
        return Target(name, None, limit, True, "x", "strom figure or baseline missing")
    return Target(name, round(strom / baseline, 2), limit, True, "x")


def _finder(rows: Sequence[Row]) -> Callable[..., float | None]:
    def find(scenario: str, case: str, figure: str, system: str = "strom") -> float | None:
        for row in rows:
            if (row.scenario, row.case, row.system) == (scenario, case, system):
                return _number(row.figures.get(figure))
        return None

    return find


def _first(rows: Sequence[Row], scenario: str, figure: str) -> float | None:
    for row in rows:
        if row.scenario == scenario and row.skipped is None:
            return _number(row.figures.get(figure))
    return None


def _baseline(rows: Sequence[Row], system: str, record_bytes: int | None) -> Row | None:
    candidates = [r for r in rows if r.system == system and r.skipped is None]
    for row in candidates:
        if row.record_bytes is None or row.record_bytes == record_bytes:
            return row
    return None


def _number(value: Figure) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _ratio_cell(value: object) -> str:
    return "-" if value is None else f"{value:.2f}x"
