"""The strom benchmark suite (issue #9): scenarios against a real broker process and
baselines measured by the same harness in the same run, printed as tables and written as
JSON under bench/results/.

    python -m bench.suite            # the full run, at most ~10 minutes on 2 cores
    python -m bench.suite --quick    # a 1-2 minute smoke run with smaller sizes
    python -m bench.suite --only produce,baselines
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Protocol

from bench.baselines import disk, loopback, nats_jetstream, python_floor, redis_streams
from bench.scenarios import consume, group, latency, partitions, produce, replication
from bench.support import compare
from bench.support.broker import BrokerProcess
from bench.support.machine import load_average, machine_facts
from bench.support.results import Row, print_table, skipped, write_document
from bench.support.sizes import FULL, LARGE_RECORD, QUICK, SMALL_RECORD, Sizes

SCENARIOS = ("produce", "consume", "latency", "partitions", "group", "replication", "baselines")
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_FRAME_BYTES = 64 * 1024
BASELINE_COLUMNS = (
    "records",
    "msgs_per_s",
    "mb_per_s",
    "seconds",
    "server_cpu_s_per_gb",
    "frame_kib",
)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    sizes = QUICK if args.quick else FULL
    chosen = set(args.only.split(",")) if args.only else set(SCENARIOS)
    unknown = chosen - set(SCENARIOS)
    if unknown:
        print(f"unknown scenarios: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    machine = machine_facts()
    _print_header(machine, args.quick)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="strom-bench-", dir=args.data_dir) as temp:
        rows, failures = _run(Path(temp), sizes, chosen)
    machine["load_average_at_end"] = load_average()
    ratio_table = compare.ratios(rows)
    compare.print_ratios(ratio_table)
    checks = compare.targets(rows)
    compare.print_targets(checks)
    parameters = {
        **sizes.as_dict(),
        "strom_commit": _source_commit(),
        "scenarios": sorted(chosen),
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    dated, latest = write_document(
        args.out_dir,
        started=started_at,
        quick=args.quick,
        machine=machine,
        parameters=parameters,
        rows=rows,
        ratios=ratio_table,
        targets=[check.as_dict() for check in checks],
    )
    print(f"\nwrote {dated} and {latest} in {parameters['wall_seconds']}s")
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.suite",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="a 1-2 minute smoke run")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(SCENARIOS)}")
    parser.add_argument(
        "--out-dir", type=Path, default=RESULTS_DIR, help="where the JSON goes (bench/results)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="where temporary logs go (default: TMPDIR)"
    )
    return parser.parse_args(argv)


def _print_header(machine: dict[str, object], quick: bool) -> None:
    print(f"strom bench suite ({'quick' if quick else 'full'} run)")
    for key, value in machine.items():
        print(f"  {key}: {value}")
    print("  (every figure is noisy while other work shares the machine: see the load average)")


class BrokerScenario(Protocol):
    """What a scenario module that runs against the shared broker provides."""

    TITLE: str
    COLUMNS: Sequence[str]

    def run(self, broker: BrokerProcess, sizes: Sizes) -> list[Row]: ...


class _Run:
    """The rows gathered so far and the scenarios that failed."""

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.failures: list[str] = []

    def attempt(
        self, name: str, title: str, columns: Sequence[str], body: Callable[[], list[Row]]
    ) -> None:
        """Run one scenario and print its table; a failure becomes a row saying why, so one
        failed scenario never loses the others' figures."""
        print(f"\n-- running {name} ...", flush=True)
        try:
            found = body()
        except Exception as error:
            traceback.print_exc()
            self.failures.append(name)
            found = [skipped(name, "all", f"failed: {type(error).__name__}: {error}")]
        self.rows.extend(found)
        print_table(title, found, columns)


def _run(temp: Path, sizes: Sizes, chosen: set[str]) -> tuple[list[Row], list[str]]:
    run = _Run()
    broker_scenarios: list[BrokerScenario] = [
        s for s in (produce, consume, latency, group) if _name(s) in chosen
    ]
    if broker_scenarios:
        broker = BrokerProcess(temp / "broker")
        try:
            for scenario in broker_scenarios:
                body = partial(_on_broker, scenario, broker, sizes)
                run.attempt(_name(scenario), scenario.TITLE, scenario.COLUMNS, body)
        finally:
            if broker.is_running():
                broker.stop()
    if "partitions" in chosen:
        run.attempt(
            "partitions",
            partitions.TITLE,
            partitions.COLUMNS,
            lambda: partitions.run(temp / "partitions", sizes),
        )
    if "replication" in chosen:
        run.attempt("replication", replication.TITLE, replication.COLUMNS, replication.run)
    if "baselines" in chosen:
        run.attempt(
            "baselines",
            "baselines (same harness, same run)",
            BASELINE_COLUMNS,
            lambda: _baselines(temp / "baselines", sizes, run.rows),
        )
    return run.rows, run.failures


def _on_broker(scenario: BrokerScenario, broker: BrokerProcess, sizes: Sizes) -> list[Row]:
    """Run a scenario on the shared broker, started on first use and again (same data)
    if an earlier scenario brought it down, after printing why it stopped."""
    if not broker.is_running():
        if broker.log_path.exists():
            print(f"broker log (tail):\n{broker.log_tail()}", file=sys.stderr)
        broker.start()
    return scenario.run(broker, sizes)


def _baselines(directory: Path, sizes: Sizes, strom_rows: Sequence[Row]) -> list[Row]:
    rows = [loopback.run(sizes.loopback_seconds), disk.run(directory, sizes.disk_mib)]
    for record_bytes in (SMALL_RECORD, LARGE_RECORD):
        records = sizes.records_for(record_bytes)
        frame = _produce_frame_bytes(strom_rows, record_bytes)
        for mode in ("buffered", "streams"):
            rows.append(python_floor.run(directory, record_bytes, records, frame, mode))
    for record_bytes in (SMALL_RECORD, LARGE_RECORD):
        rows.append(nats_jetstream.run(record_bytes, sizes.records_for(record_bytes)))
    for record_bytes in (SMALL_RECORD, LARGE_RECORD):
        rows.append(redis_streams.run(record_bytes, sizes.records_for(record_bytes)))
    return rows


def _produce_frame_bytes(rows: Sequence[Row], record_bytes: int) -> int:
    """The median produce request the Kafka producer sent for this record size, so the
    floor is driven with the frames the broker got; 64 KiB when produce did not run."""
    sizes = [
        float(value)
        for row in rows
        if row.scenario == "produce" and row.record_bytes == record_bytes
        if isinstance(value := row.figures.get("mean_request_kib"), int | float)
    ]
    return int(statistics.median(sizes) * 1024) if sizes else DEFAULT_FRAME_BYTES


def _source_commit() -> str | None:
    """The commit the broker ran from, with "+dirty" when the work tree had changes."""
    repo = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "broker"],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return f"{commit}+dirty" if commit and dirty else (commit or None)


def _name(module: object) -> str:
    return str(getattr(module, "__name__", "")).rsplit(".", 1)[-1]


if __name__ == "__main__":
    sys.exit(main())
