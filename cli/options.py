"""Options shared by the tenant commands, and the examples every command's help ends with."""

from __future__ import annotations

from typing import Annotated

import typer

from strom.cli.output import OutputFormat

DEFAULT_WAIT_TIMEOUT_S = 300.0

Output = Annotated[
    OutputFormat,
    typer.Option(
        "--output", "-o", help="table for people; json or yaml (the API's objects) for scripts."
    ),
]
Cluster = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        help="Cluster name or id (default: env STROM_CLUSTER, else `strom cluster use`).",
        show_default=False,
    ),
]
Wait = Annotated[
    bool, typer.Option("--wait", help="Wait until the operation is done, showing progress.")
]
Timeout = Annotated[
    float,
    typer.Option("--timeout", min=0, help="Seconds --wait waits before giving up (exit 1)."),
]

ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        help="A cluster key's id (default: the one stored with `strom api-key use`).",
        show_default=False,
    ),
]
ApiSecret = Annotated[
    str | None, typer.Option("--api-secret", help="That key's secret.", show_default=False)
]


def examples(*lines: str) -> str:
    """A help epilog listing example invocations."""
    return "\n\n".join(("[bold]Examples[/bold]", *(f"  {line}" for line in lines)))
