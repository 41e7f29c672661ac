"""The `strom` command: assembles the Typer app from one module per noun.

The root group turns every `CliError` (an API problem detail, a missing login, an unknown
name) into one line on stderr and the error's exit code, so no expected failure shows a
traceback. Its options (`--context`, `--tenant`, `-v`) go before the command.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from strom.cli import output
from strom.cli.commands import (
    acl,
    api_key,
    auth,
    broker,
    cluster,
    consume,
    context,
    controlplane,
    operation,
    operator,
    produce,
    service_account,
    tenant,
    topic,
)
from strom.cli.errors import CliError
from strom.cli.session import RootOptions, Session


class StromGroup(TyperGroup):
    """The root group: expected failures end as one stderr line and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CliError as failure:
            output.error(failure.message)
            raise typer.Exit(failure.exit_code) from None


app = typer.Typer(
    name="strom",
    cls=StromGroup,
    help="Strom: event streaming in the manner of Apache Kafka.",
    no_args_is_help=True,
)


@app.callback()
def root(
    ctx: typer.Context,
    context_name: Annotated[
        str | None,
        typer.Option(
            "--context", help="Use this saved context, not the current one (env STROM_CONTEXT)."
        ),
    ] = None,
    tenant_name: Annotated[
        str | None,
        typer.Option(
            "--tenant", help="Act in this tenant, by id or name; for the admin (env STROM_TENANT)."
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Print the context, URL, credentials and API calls in effect."
        ),
    ] = False,
) -> None:
    """Strom: event streaming in the manner of Apache Kafka."""
    session = Session(RootOptions(context_name, tenant_name, verbose))
    ctx.obj = session
    ctx.call_on_close(session.close)


# The platform: run the parts.
app.add_typer(broker.app, name="broker")
app.add_typer(controlplane.app, name="controlplane")
app.add_typer(operator.app, name="operator")
# Tenants: self-service against the control plane.
auth.register(app)
app.add_typer(context.app, name="context")
app.add_typer(tenant.app, name="tenant")
app.add_typer(cluster.app, name="cluster")
app.add_typer(topic.app, name="topic")
app.add_typer(service_account.app, name="service-account")
app.add_typer(api_key.app, name="api-key")
app.add_typer(acl.app, name="acl")
app.add_typer(operation.app, name="operation")
app.command("produce", epilog=produce.EPILOG)(produce.produce)
app.command("consume", epilog=consume.EPILOG)(consume.consume)


def main() -> None:
    app()
