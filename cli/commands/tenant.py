"""`strom tenant ...`: the platform admin's tenants (`/api/v1/tenants`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from strom.cli import output
from strom.cli.client import API
from strom.cli.errors import UsageError
from strom.cli.options import Output, examples
from strom.cli.session import Session

app = typer.Typer(help="Create and manage tenants (platform admin).", no_args_is_help=True)

COLUMNS: list[output.Column] = [
    ("ID", "id"),
    ("NAME", "spec.name"),
    ("DISPLAY NAME", "spec.display_name"),
    ("MAX CLUSTERS", "spec.limits.max_clusters"),
    ("MAX PARTITIONS", "spec.limits.max_partitions"),
    ("CREATED", "metadata.created_at"),
]

Tenant = Annotated[str, typer.Argument(help="The tenant's name or id.", show_default=False)]
Limit = Annotated[int | None, typer.Option(min=0, show_default=False)]


@app.command(
    "create",
    epilog=examples(
        "strom tenant create acme", "strom tenant create acme --max-clusters 2 --max-partitions 500"
    ),
)
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Lowercase letters, digits and '-', 3-40 long.")],
    display_name: Annotated[str | None, typer.Option("--display-name")] = None,
    max_clusters: Limit = None,
    max_brokers: Limit = None,
    max_partitions: Limit = None,
    output_format: Output = output.OutputFormat.table,
) -> None:
    """Create a tenant (`POST /api/v1/tenants`); limits left out keep their defaults."""
    spec: dict[str, Any] = {"name": name}
    if display_name is not None:
        spec["display_name"] = display_name
    limits = {
        key: value
        for key, value in (
            ("max_clusters", max_clusters),
            ("max_brokers", max_brokers),
            ("max_partitions", max_partitions),
        )
        if value is not None
    }
    if limits:
        spec["limits"] = limits
    tenant = Session.of(ctx).client().post(f"{API}/tenants", {"spec": spec})
    _show_changed(tenant, output_format, "Created")


@app.command("list", epilog=examples("strom tenant list", "strom tenant list -o json"))
def list_tenants(ctx: typer.Context, output_format: Output = output.OutputFormat.table) -> None:
    """Every tenant (`GET /api/v1/tenants`)."""
    tenants = Session.of(ctx).client().list_all(f"{API}/tenants")
    output.show_list(tenants, COLUMNS, output_format, empty="No tenants.")


@app.command("describe", epilog=examples("strom tenant describe acme -o yaml"))
def describe(
    ctx: typer.Context, tenant: Tenant, output_format: Output = output.OutputFormat.table
) -> None:
    """One tenant with its limits (`GET /api/v1/tenants/{id}`)."""
    session = Session.of(ctx)
    tenant_id = session.tenant_by_id_or_name(tenant)
    output.show_object(session.client().get(f"{API}/tenants/{tenant_id}"), output_format)


@app.command("delete", epilog=examples("strom tenant delete acme"))
def delete(ctx: typer.Context, tenant: Tenant) -> None:
    """Delete a tenant with its service accounts and keys; its clusters must go first."""
    session = Session.of(ctx)
    tenant_id = session.tenant_by_id_or_name(tenant)
    session.client().delete(f"{API}/tenants/{tenant_id}")
    output.message(f"Deleted tenant {tenant_id}.")


@app.command("use", epilog=examples("strom tenant use acme", "strom --tenant acme cluster list"))
def use(ctx: typer.Context, tenant: Tenant) -> None:
    """Act in this tenant from now on in the current context (for the admin token)."""
    session = Session.of(ctx)
    name = session.effective().context.value
    if not name:
        raise UsageError("no context to remember the tenant in: run `strom login` first")
    tenant_id = session.tenant_by_id_or_name(tenant)
    session.client().get(f"{API}/tenants/{tenant_id}")  # it must exist and be visible
    session.config.set_value(name, "tenant", tenant_id)
    session.config.set_value(name, "cluster", None)  # clusters belong to a tenant
    session.config.save()
    output.message(f"Using tenant {tenant_id} in context {name!r}.")


def _show_changed(tenant: dict[str, Any], output_format: output.OutputFormat, verb: str) -> None:
    if output_format is output.OutputFormat.table:
        output.message(f"{verb} tenant {tenant['spec']['name']} ({tenant['id']}).")
    else:
        output.show_data(tenant, output_format)
