"""`strom service-account ...`: identities of a tenant's applications (`.../service-accounts`).

Each has one Kafka principal, `User:<tenant-id>.<name>`, used in ACLs and on the broker.
"""

from __future__ import annotations

from typing import Annotated

import typer

from strom.cli import output
from strom.cli.options import Output, examples
from strom.cli.session import Session

app = typer.Typer(help="Create and manage service accounts.", no_args_is_help=True)

COLUMNS: list[output.Column] = [
    ("ID", "id"),
    ("NAME", "spec.name"),
    ("PRINCIPAL", "status.principal"),
    ("DESCRIPTION", "spec.description"),
]

Account = Annotated[str, typer.Argument(help="The service account's name or id.")]


@app.command(
    "create",
    epilog=examples(
        "strom service-account create orders-app",
        'strom service-account create billing --description "nightly billing job"',
    ),
)
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Unique in the tenant: a-z, 0-9 and '-'.")],
    description: Annotated[str, typer.Option("--description")] = "",
    output_format: Output = output.OutputFormat.table,
) -> None:
    """Create a service account (`POST /api/v1/tenants/{tenant}/service-accounts`)."""
    session = Session.of(ctx)
    body = {"spec": {"name": name, "description": description}}
    account = session.client().post(session.tenant_path("service-accounts"), body)
    if output_format is output.OutputFormat.table:
        output.message(
            f"Created service account {name} ({account['id']}), principal "
            f"{account['status']['principal']}."
        )
    else:
        output.show_data(account, output_format)


@app.command("list", epilog=examples("strom service-account list -o json"))
def list_accounts(ctx: typer.Context, output_format: Output = output.OutputFormat.table) -> None:
    """The tenant's service accounts (`GET .../service-accounts`)."""
    session = Session.of(ctx)
    accounts = session.client().list_all(session.tenant_path("service-accounts"))
    output.show_list(accounts, COLUMNS, output_format, empty="No service accounts.")


@app.command("describe", epilog=examples("strom service-account describe orders-app"))
def describe(
    ctx: typer.Context, account: Account, output_format: Output = output.OutputFormat.table
) -> None:
    """One service account (`GET .../service-accounts/{id}`)."""
    session = Session.of(ctx)
    found = session.find(session.tenant_path("service-accounts"), account, "service account")
    path = session.tenant_path("service-accounts", found["id"])
    output.show_object(session.client().get(path), output_format)


@app.command("delete", epilog=examples("strom service-account delete orders-app"))
def delete(ctx: typer.Context, account: Account) -> None:
    """Delete a service account and its API keys (`DELETE .../service-accounts/{id}`)."""
    session = Session.of(ctx)
    found = session.find(session.tenant_path("service-accounts"), account, "service account")
    session.client().delete(session.tenant_path("service-accounts", found["id"]))
    output.message(f"Deleted service account {found['spec']['name']} ({found['id']}).")
