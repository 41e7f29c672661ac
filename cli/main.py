"""The `strom` command: assembles the Typer app from one module per noun."""

from __future__ import annotations

import typer

from strom.cli.commands import broker, controlplane, operator

app = typer.Typer(
    name="strom",
    help="Strom: event streaming in the manner of Apache Kafka.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(broker.app, name="broker")
app.add_typer(controlplane.app, name="controlplane")
app.add_typer(operator.app, name="operator")


def main() -> None:
    app()
