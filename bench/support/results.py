"""Result rows, the tables printed from them and the JSON document written for a run."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

Figure = float | int | str | None
MB = 1_000_000
GB = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Row:
    """One measured (or skipped) case: `figures` holds what was measured, by name."""

    scenario: str
    case: str
    system: str = "strom"
    record_bytes: int | None = None
    figures: Mapping[str, Figure] = field(default_factory=dict)
    skipped: str | None = None
    notes: str = ""

    @property
    def mb_per_s(self) -> float | None:
        value = self.figures.get("mb_per_s")
        return float(value) if isinstance(value, int | float) else None


def skipped(scenario: str, case: str, reason: str, system: str = "strom") -> Row:
    return Row(scenario, case, system, skipped=reason)


def throughput_figures(records: int, record_bytes: int, seconds: float) -> dict[str, Figure]:
    """records, seconds, msgs/s and MB/s (10^6 bytes of record payload per second)."""
    return {
        "records": records,
        "seconds": round(seconds, 3),
        "msgs_per_s": round(records / seconds),
        "mb_per_s": round(records * record_bytes / seconds / MB, 2),
    }


def print_table(title: str, rows: Sequence[Row], columns: Sequence[str]) -> None:
    """A fixed-width table: case, system, then the named figures; skipped rows say why."""
    print(f"\n== {title}")
    header = ["case", "system", *columns]
    cells = [header]
    for row in rows:
        if row.skipped is not None:
            cells.append([row.case, row.system, f"skipped: {row.skipped}"])
            continue
        cells.append([row.case, row.system, *(_cell(row.figures.get(c)) for c in columns)])
    widths = [max(len(line[i]) for line in cells if i < len(line)) for i in range(len(header))]
    for index, line in enumerate(cells):
        if len(line) < len(header):  # a skipped row: its reason spans the figure columns
            print(f"{line[0]:<{widths[0]}}  {line[1]:<{widths[1]}}  {line[2]}")
            continue
        text = "  ".join(
            f"{value:<{widths[i]}}" if i < 2 else f"{value:>{widths[i]}}"
            for i, value in enumerate(line)
        )
        print(text)
        if index == 0:
            print("  ".join("-" * w for w in widths))
    for row in rows:
        if row.notes:
            print(f"  note ({row.case}, {row.system}): {row.notes}")


def write_document(
    out_dir: Path,
    *,
    started: datetime,
    quick: bool,
    machine: Mapping[str, object],
    parameters: Mapping[str, object],
    rows: Iterable[Row],
    ratios: Iterable[Mapping[str, object]],
    targets: Iterable[Mapping[str, object]],
) -> tuple[Path, Path]:
    """Write a dated JSON file and `latest.json` (or `latest-quick.json` for smoke runs,
    so a smoke run never replaces the figures of a full one)."""
    document = {
        "benchmark": "strom bench suite (issue #9)",
        "mode": "quick" if quick else "full",
        "started_utc": started.astimezone(UTC).isoformat(timespec="seconds"),
        "machine": dict(machine),
        "parameters": dict(parameters),
        "results": [asdict(row) for row in rows],
        "ratios": list(ratios),
        "targets": list(targets),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    suffix = "-quick" if quick else ""
    dated = out_dir / f"{started.astimezone(UTC).strftime('%Y-%m-%dT%H%M%SZ')}{suffix}.json"
    latest = out_dir / f"latest{suffix}.json"
    text = json.dumps(document, indent=2, default=str) + "\n"
    dated.write_text(text)
    latest.write_text(text)
    return dated, latest


def _cell(value: Figure) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return value
