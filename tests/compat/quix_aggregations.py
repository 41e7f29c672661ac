"""Quix Streams applications that aggregate per key (run by test_quixstreams.py).

usage: quix_aggregations.py AGGREGATION BOOTSTRAP GROUP INPUT OUTPUT STATE_DIR COUNT

Reads `{"amount": n}` JSON records keyed by a string and writes to OUTPUT, then stops
after COUNT outputs. AGGREGATION is `running-sum` (each record's key total so far, kept in
RocksDB state backed by a compacted changelog topic, as `{"total": t}`) or `tumbling-sum`
(the sum of each closed 10-second window, as Quix's `{"start", "end", "value"}`).
"""

from __future__ import annotations

import sys
from typing import Any

from quixstreams import Application, State
from quixstreams.dataframe import StreamingDataFrame

WINDOW_MS = 10_000


def add_to_total(value: dict[str, Any], state: State) -> dict[str, int]:
    total = state.get("total", 0) + int(value["amount"])
    state.set("total", total)
    return {"total": total}


def aggregate(sdf: StreamingDataFrame, aggregation: str) -> StreamingDataFrame:
    if aggregation == "running-sum":
        return sdf.apply(add_to_total, stateful=True)
    if aggregation == "tumbling-sum":
        amounts = sdf.apply(lambda value: int(value["amount"]))
        return amounts.tumbling_window(duration_ms=WINDOW_MS).sum().final()
    raise ValueError(f"unknown aggregation {aggregation!r}")


def main(
    aggregation: str, bootstrap: str, group: str, source: str, sink: str, state_dir: str,
    count: int,
) -> None:  # fmt: skip
    app = Application(
        broker_address=bootstrap,
        consumer_group=group,
        auto_offset_reset="earliest",
        processing_guarantee="at-least-once",
        state_dir=state_dir,
        consumer_extra_config={"session.timeout.ms": 6000, "heartbeat.interval.ms": 500},
    )
    source_topic = app.topic(source, key_deserializer="str", value_deserializer="json")
    sink_topic = app.topic(sink, key_serializer="str", value_serializer="json")
    aggregate(app.dataframe(source_topic), aggregation).to_topic(sink_topic)
    app.run(count=count)


if __name__ == "__main__":
    aggregation, bootstrap, group, source, sink, state_dir, count = sys.argv[1:]
    main(aggregation, bootstrap, group, source, sink, state_dir, int(count))
