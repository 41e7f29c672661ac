"""`strom operation list|describe|wait`: long-running changes (`/api/v1/operations`)."""

from __future__ import annotations

from typing import Annotated

import typer

from strom.cli import output
from strom.cli.client import API
from strom.cli.options import DEFAULT_WAIT_TIMEOUT_S, Output, Timeout, examples
from strom.cli.session import Session
from strom.cli.waiting import wait_for_operation

app = typer.Typer(help="Follow cluster creations and deletions.", no_args_is_help=True)

COLUMNS: list[output.Column] = [
    ("ID", "id"),
    ("TYPE", "spec.type"),
    ("TARGET", "spec.target_id"),
    ("PHASE", "status.phase"),
    ("MESSAGE", "status.message"),
    ("CREATED", "metadata.created_at"),
]

OperationId = Annotated[str, typer.Argument(help="The operation's id (`op-…`).")]


@app.command("list", epilog=examples("strom operation list", "strom operation list -o json"))
def list_operations(ctx: typer.Context, output_format: Output = output.OutputFormat.table) -> None:
    """The tenant's operations, oldest first (`GET /api/v1/tenants/{tenant}/operations`)."""
    session = Session.of(ctx)
    operations = session.client().list_all(session.tenant_path("operations"))
    output.show_list(operations, COLUMNS, output_format, empty="No operations.")


@app.command("describe", epilog=examples("strom operation describe op-2m9q4xw3bd7k"))
def describe(
    ctx: typer.Context, operation_id: OperationId, output_format: Output = output.OutputFormat.table
) -> None:
    """One operation (`GET /api/v1/operations/{id}`)."""
    operation = Session.of(ctx).client().get(f"{API}/operations/{operation_id}")
    output.show_object(operation, output_format)


@app.command("wait", epilog=examples("strom operation wait op-2m9q4xw3bd7k --timeout 120"))
def wait(
    ctx: typer.Context,
    operation_id: OperationId,
    timeout: Timeout = DEFAULT_WAIT_TIMEOUT_S,
    output_format: Output = output.OutputFormat.table,
) -> None:
    """Wait until an operation is done; exit 1 when it failed or the timeout passed."""
    client = Session.of(ctx).client()
    operation = client.get(f"{API}/operations/{operation_id}")
    done = wait_for_operation(client, operation, timeout, f"Operation {operation_id}")
    if output_format is output.OutputFormat.table:
        output.message(f"Operation {operation_id} {done['status']['phase']}.")
    else:
        output.show_data(done, output_format)
