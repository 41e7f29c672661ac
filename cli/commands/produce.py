"""`strom produce TOPIC`: send records from stdin lines or `--value`, as a cluster key."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Annotated

import typer
from confluent_kafka import KafkaError, Message, Producer

from strom.cli import output
from strom.cli.errors import CliError
from strom.cli.kafka_clients import client_settings, kafka_failure
from strom.cli.options import ApiKey, ApiSecret, Cluster, examples
from strom.cli.session import Session

FLUSH_POLL_S = 0.1

EPILOG = examples(
    "strom produce orders --value hello",
    "seq 100 | strom produce orders",
    "printf 'k1:v1\\nk2:v2\\n' | strom produce orders --key-separator :",
)


def produce(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(help="The topic to write to.")],
    value: Annotated[
        list[str] | None,
        typer.Option("--value", help="A record value; repeatable. Default: stdin, one per line."),
    ] = None,
    key_separator: Annotated[
        str | None,
        typer.Option(
            "--key-separator",
            help="Split each record at the first SEP into key and value (no SEP: no key).",
            metavar="SEP",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait for delivery.")
    ] = 30.0,
    cluster: Cluster = None,
    api_key: ApiKey = None,
    api_secret: ApiSecret = None,
) -> None:
    """Produce records to a topic of the selected cluster, with SASL/SCRAM as a cluster key."""
    session = Session.of(ctx)
    settings = client_settings(session, cluster, api_key, api_secret)
    producer = Producer({**settings, "message.timeout.ms": int(timeout * 1000), "linger.ms": 5})
    failures: list[KafkaError] = []
    sent = 0

    def delivered(error: KafkaError | None, _message: Message) -> None:
        if error is not None:
            failures.append(error)

    if value is None and sys.stdin.isatty():
        output.note("Type one record per line; Ctrl-D to finish.")
    for record in value if value is not None else _lines():
        key, record_value = _split(record, key_separator)
        _send(producer, topic, key, record_value, delivered)
        sent += 1
    undelivered = producer.flush(timeout)
    if failures:
        raise kafka_failure(failures[0], f"{len(failures)} of {sent} records to {topic} failed")
    if undelivered:
        raise CliError(f"{undelivered} of {sent} records to {topic} not delivered in {timeout:g}s")
    output.note(f"Produced {sent} record(s) to {topic}.")


def _lines() -> Iterator[str]:
    for line in sys.stdin:
        yield line.rstrip("\r\n")


def _split(record: str, separator: str | None) -> tuple[bytes | None, bytes]:
    if separator:
        key, found, value = record.partition(separator)
        if found:
            return key.encode(), value.encode()
    return None, record.encode()


def _send(
    producer: Producer,
    topic: str,
    key: bytes | None,
    value: bytes,
    delivered: Callable[[KafkaError | None, Message], None],
) -> None:
    while True:
        try:
            producer.produce(topic, value=value, key=key, on_delivery=delivered)
        except BufferError:  # the local queue is full: let deliveries drain it
            producer.poll(FLUSH_POLL_S)
            continue
        producer.poll(0)
        return
