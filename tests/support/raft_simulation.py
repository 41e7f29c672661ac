"""Run the Raft simulation over many seeds, or replay one with its trace.

    .venv/bin/python tests/support/raft_simulation.py --seeds 100000 [--start N]
    .venv/bin/python tests/support/raft_simulation.py --seed S [--trace]

Run it as a script (not with `python -m` from the repository root: the repository's
`operator/` folder would shadow the standard library's).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    # As a script, only tests/support is on the path; the repository root goes last so
    # that nothing in it shadows the standard library.
    sys.path.append(str(Path(__file__).resolve().parents[2]))

from tests.support.raft_sim.simulation import (
    Simulation,
    SimulationFailure,
    SimulationResult,
)

REPLAY = ".venv/bin/python tests/support/raft_simulation.py --seed {seed} --trace"


def run_seed(seed: int, echo: bool = False) -> SimulationResult:
    """Simulate one seed; raises SimulationFailure (with the trace's tail) on a bug."""
    return Simulation(seed, echo=echo).run()


def describe_failure(failure: SimulationFailure) -> str:
    lines = [f"seed {failure.seed} failed: {failure.reason}", "last events:"]
    lines.extend(f"  {line}" for line in failure.trace)
    lines.append(f"replay: {REPLAY.format(seed=failure.seed)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1000, help="how many seeds to run")
    parser.add_argument("--start", type=int, default=0, help="the first seed")
    parser.add_argument("--seed", type=int, help="run only this seed")
    parser.add_argument("--trace", action="store_true", help="print every event of --seed")
    parser.add_argument("--keep-going", action="store_true", help="do not stop at a failure")
    args = parser.parse_args(argv)

    if args.seed is not None:
        try:
            result = run_seed(args.seed, echo=args.trace)
        except SimulationFailure as failure:
            print(describe_failure(failure))
            return 1
        print(result)
        return 0

    failures: list[int] = []
    started = time.monotonic()
    for index, seed in enumerate(range(args.start, args.start + args.seeds), start=1):
        try:
            run_seed(seed)
        except SimulationFailure as failure:
            failures.append(seed)
            print(describe_failure(failure), flush=True)
            if not args.keep_going:
                break
        if index % 1000 == 0 or index == args.seeds:
            elapsed = time.monotonic() - started
            print(
                f"{index} seeds in {elapsed:.1f} s ({index / elapsed:.0f}/s), "
                f"{len(failures)} failed",
                flush=True,
            )
    if failures:
        print(f"failing seeds: {failures}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
