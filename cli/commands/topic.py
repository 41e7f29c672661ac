"""`strom topic ...`: topics of the selected cluster (`.../clusters/{cluster}/topics`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from strom.cli import output
from strom.cli.errors import UsageError
from strom.cli.options import Cluster, Output, examples
from strom.cli.session import Session

app = typer.Typer(help="Create, inspect, change and delete topics.", no_args_is_help=True)

COLUMNS: list[output.Column] = [
    ("NAME", "id"),
    ("PARTITIONS", "spec.partitions"),
    ("REPLICATION", "spec.replication_factor"),
    ("CONFIGS", "spec.configs"),
]

Topic = Annotated[str, typer.Argument(help="The topic's name.", show_default=False)]
Configs = Annotated[
    list[str] | None,
    typer.Option("--config", help="A topic config KEY=VALUE (Kafka names); repeatable."),
]


@app.command(
    "create",
    epilog=examples(
        "strom topic create orders --partitions 6",
        "strom topic create audit --config retention.ms=604800000 --cluster orders-dev",
    ),
)
def create(
    ctx: typer.Context,
    name: Topic,
    partitions: Annotated[int, typer.Option("--partitions", "-p", min=1)] = 1,
    replication_factor: Annotated[
        int | None,
        typer.Option("--replication-factor", "-r", min=1, help="Default: the cluster's."),
    ] = None,
    config: Configs = None,
    cluster: Cluster = None,
    output_format: Output = output.OutputFormat.table,
) -> None:
    """Create a topic; its partitions count against the tenant's limit (`POST .../topics`)."""
    spec: dict[str, Any] = {"name": name, "partitions": partitions, "configs": _pairs(config)}
    if replication_factor is not None:
        spec["replication_factor"] = replication_factor
    session = Session.of(ctx)
    topic = session.client().post(session.cluster_path(cluster, "topics"), {"spec": spec})
    _show_changed(topic, output_format, "Created")


@app.command("list", epilog=examples("strom topic list", "strom topic list -o json"))
def list_topics(
    ctx: typer.Context, cluster: Cluster = None, output_format: Output = output.OutputFormat.table
) -> None:
    """The cluster's topics, read from the cluster (`GET .../topics`)."""
    session = Session.of(ctx)
    topics = session.client().list_all(session.cluster_path(cluster, "topics"))
    output.show_list(topics, COLUMNS, output_format, empty="No topics.")


@app.command("describe", epilog=examples("strom topic describe orders -o yaml"))
def describe(
    ctx: typer.Context,
    name: Topic,
    cluster: Cluster = None,
    output_format: Output = output.OutputFormat.table,
) -> None:
    """One topic: partitions, replication, configs, Kafka's topic id (`GET .../topics/{name}`)."""
    session = Session.of(ctx)
    output.show_object(
        session.client().get(session.cluster_path(cluster, "topics", name)), output_format
    )


@app.command(
    "alter",
    epilog=examples(
        "strom topic alter orders --partitions 12",
        "strom topic alter orders --config retention.ms=86400000 --delete-config cleanup.policy",
    ),
)
def alter(
    ctx: typer.Context,
    name: Topic,
    partitions: Annotated[
        int | None, typer.Option("--partitions", "-p", min=1, help="More partitions (never fewer).")
    ] = None,
    config: Configs = None,
    delete_config: Annotated[
        list[str] | None, typer.Option("--delete-config", help="Reset a config; repeatable.")
    ] = None,
    cluster: Cluster = None,
    output_format: Output = output.OutputFormat.table,
) -> None:
    """Add partitions or change configs (`PATCH .../topics/{name}`)."""
    spec: dict[str, Any] = {}
    if partitions is not None:
        spec["partitions"] = partitions
    configs: dict[str, str | None] = {**_pairs(config)}
    configs.update(dict.fromkeys(delete_config or []))
    if configs:
        spec["configs"] = configs
    if not spec:
        raise UsageError("nothing to change: pass --partitions, --config or --delete-config")
    session = Session.of(ctx)
    topic = session.client().patch(session.cluster_path(cluster, "topics", name), {"spec": spec})
    _show_changed(topic, output_format, "Changed")


@app.command("delete", epilog=examples("strom topic delete orders"))
def delete(ctx: typer.Context, name: Topic, cluster: Cluster = None) -> None:
    """Delete a topic and its data (`DELETE .../topics/{name}`)."""
    session = Session.of(ctx)
    session.client().delete(session.cluster_path(cluster, "topics", name))
    output.message(f"Deleted topic {name}.")


def _pairs(values: list[str] | None) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values or []:
        key, equals, setting = value.partition("=")
        if not equals or not key:
            raise UsageError(f"--config {value!r} is not KEY=VALUE")
        pairs[key] = setting
    return pairs


def _show_changed(topic: dict[str, Any], output_format: output.OutputFormat, verb: str) -> None:
    if output_format is output.OutputFormat.table:
        partitions = topic["spec"]["partitions"]
        output.message(f"{verb} topic {topic['id']} ({partitions} partition(s)).")
    else:
        output.show_data(topic, output_format)
