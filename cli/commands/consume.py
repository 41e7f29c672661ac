"""`strom consume TOPIC`: print a topic's records, as a cluster key.

With `--group` the consumer joins that group (it needs READ on the group) and commits its
offsets; without, it reads every partition directly (like kcat), starting at the end, or at
the beginning with `--from-beginning`.
"""

from __future__ import annotations

import secrets
import time
from typing import Annotated, Any

import typer
from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Consumer,
    KafkaError,
    Message,
    TopicPartition,
)

from strom.cli import output
from strom.cli.kafka_clients import client_settings, kafka_failure
from strom.cli.options import ApiKey, ApiSecret, Cluster, Output, examples
from strom.cli.session import Session

POLL_S = 0.2
METADATA_TIMEOUT_S = 15.0

EPILOG = examples(
    "strom consume orders --from-beginning",
    "strom consume orders --group orders-audit --max 10 -o json",
)


def consume(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(help="The topic to read.")],
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning", help="Start at the oldest record, not the end.")
    ] = False,
    group: Annotated[
        str | None, typer.Option("--group", help="Consume in this group and commit offsets.")
    ] = None,
    max_records: Annotated[
        int | None, typer.Option("--max", min=1, help="Stop after this many records.")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", min=0.1, help="Stop after this many seconds without a record."),
    ] = None,
    cluster: Cluster = None,
    api_key: ApiKey = None,
    api_secret: ApiSecret = None,
    output_format: Output = output.OutputFormat.table,
) -> None:
    """Print records: values for people, one JSON (or YAML) document per record for scripts."""
    session = Session.of(ctx)
    settings = client_settings(session, cluster, api_key, api_secret)
    consumer = Consumer(
        {
            **settings,
            # Without --group no group is joined; librdkafka still wants a group.id.
            "group.id": group or f"strom-cli-{secrets.token_hex(6)}",
            "enable.auto.commit": group is not None,
            "auto.offset.reset": "earliest" if from_beginning else "latest",
        }
    )
    try:
        if group is None:
            consumer.assign(_partitions(consumer, topic, from_beginning))
        else:
            consumer.subscribe([topic])
        # Without a group, librdkafka still looks for a coordinator of its made-up group id;
        # being refused that is harmless, since no offsets are committed.
        ignored = frozenset() if group else frozenset({KafkaError.GROUP_AUTHORIZATION_FAILED})
        _print_records(consumer, topic, max_records, timeout, ignored, output_format)
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()


def _partitions(consumer: Consumer, topic: str, from_beginning: bool) -> list[TopicPartition]:
    metadata = consumer.list_topics(topic, timeout=METADATA_TIMEOUT_S).topics.get(topic)
    if metadata is None or metadata.error is not None:
        error = metadata.error if metadata is not None else KafkaError(KafkaError._UNKNOWN_TOPIC)
        raise kafka_failure(error, f"reading {topic}")
    start = OFFSET_BEGINNING if from_beginning else OFFSET_END
    return [TopicPartition(topic, partition, start) for partition in sorted(metadata.partitions)]


def _print_records(
    consumer: Consumer,
    topic: str,
    max_records: int | None,
    idle_timeout: float | None,
    ignored: frozenset[int],
    output_format: output.OutputFormat,
) -> None:
    count = 0
    last_record = time.monotonic()
    while max_records is None or count < max_records:
        message = consumer.poll(POLL_S)
        if message is None:
            if idle_timeout is not None and time.monotonic() - last_record >= idle_timeout:
                return
            continue
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF or error.code() in ignored:
                continue
            raise kafka_failure(error, f"reading {topic}")
        output.record(_record(message), output_format)
        count += 1
        last_record = time.monotonic()


def _record(message: Message) -> dict[str, Any]:
    timestamp_type, timestamp = message.timestamp()
    return {
        "topic": message.topic(),
        "partition": message.partition(),
        "offset": message.offset(),
        "timestamp": timestamp if timestamp_type else None,
        "key": _text(message.key()),
        "value": _text(message.value()),
        "headers": _headers(message),
    }


def _headers(message: Message) -> dict[str, str | None]:
    headers = message.headers() or []
    pairs = headers.items() if isinstance(headers, dict) else headers
    return {name: _text(value) for name, value in pairs}


def _text(data: bytes | str | None) -> str | None:
    if data is None or isinstance(data, str):
        return data
    return data.decode("utf-8", errors="backslashreplace")
