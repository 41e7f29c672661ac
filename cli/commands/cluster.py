"""`strom cluster ...`: a tenant's clusters (`/api/v1/tenants/{tenant}/clusters`).

Creating and deleting are long-running: the API answers with an operation, which `--wait`
follows to its end (see `strom.cli.waiting`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from strom.cli import output
from strom.cli.errors import UsageError
from strom.cli.options import DEFAULT_WAIT_TIMEOUT_S, Output, Timeout, Wait, examples
from strom.cli.session import Session
from strom.cli.waiting import wait_for_operation

app = typer.Typer(help="Create, inspect, select and delete clusters.", no_args_is_help=True)

COLUMNS: list[output.Column] = [
    ("ID", "id"),
    ("NAME", "spec.name"),
    ("PLAN", "spec.plan"),
    ("BROKERS", "spec.brokers"),
    ("PHASE", "status.phase"),
    ("BOOTSTRAP SERVERS", "status.bootstrap_servers"),
]

Cluster = Annotated[str, typer.Argument(help="The cluster's name or id.", show_default=False)]


@app.command(
    "create",
    epilog=examples(
        "strom cluster create orders-dev --wait",
        "strom cluster create orders-dev --wait --timeout 120 -o json",
    ),
)
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Unique in the tenant: a-z, 0-9 and '-'.")],
    plan: Annotated[str, typer.Option("--plan", help="Only `dev` (one local broker) so far.")] = (
        "dev"
    ),
    brokers: Annotated[int, typer.Option("--brokers", min=1)] = 1,
    wait: Wait = False,
    timeout: Timeout = DEFAULT_WAIT_TIMEOUT_S,
    output_format: Output = output.OutputFormat.table,
) -> None:
    """Start creating a cluster; prints the operation, or with --wait the READY cluster.

    Calls `POST /api/v1/tenants/{tenant}/clusters`, then polls the operation.
    """
    session = Session.of(ctx)
    client = session.client()
    spec = {"name": name, "plan": plan, "brokers": brokers}
    operation = client.post(session.tenant_path("clusters"), {"spec": spec})
    cluster_id = operation["spec"]["target_id"]
    if not wait:
        _show_started(operation, output_format, f"Creating cluster {name} ({cluster_id})")
        return
    wait_for_operation(client, operation, timeout, f"Creating cluster {name}")
    cluster = client.get(session.tenant_path("clusters", cluster_id))
    if output_format is output.OutputFormat.table:
        servers = ", ".join(cluster["status"]["bootstrap_servers"])
        output.message(f"Cluster {name} ({cluster_id}) is {cluster['status']['phase']}: {servers}")
        output.note(f"Select it for topic and ACL commands: `strom cluster use {name}`.")
    else:
        output.show_data(cluster, output_format)


@app.command("list", epilog=examples("strom cluster list", "strom cluster list -o json"))
def list_clusters(ctx: typer.Context, output_format: Output = output.OutputFormat.table) -> None:
    """The tenant's clusters (`GET /api/v1/tenants/{tenant}/clusters`)."""
    session = Session.of(ctx)
    clusters = session.client().list_all(session.tenant_path("clusters"))
    output.show_list(clusters, COLUMNS, output_format, empty="No clusters.")


@app.command("describe", epilog=examples("strom cluster describe orders-dev -o yaml"))
def describe(
    ctx: typer.Context, cluster: Cluster, output_format: Output = output.OutputFormat.table
) -> None:
    """One cluster: phase, bootstrap servers, partitions (`GET .../clusters/{id}`)."""
    session = Session.of(ctx)
    found = session.find(session.tenant_path("clusters"), cluster, "cluster")
    output.show_object(
        session.client().get(session.tenant_path("clusters", found["id"])), output_format
    )


@app.command("scale", epilog=examples("strom cluster scale orders-dev --brokers 3"))
def scale(
    ctx: typer.Context,
    cluster: Cluster,
    brokers: Annotated[int, typer.Option("--brokers", min=1, help="The new broker count.")],
    output_format: Output = output.OutputFormat.table,
) -> None:
    """Change a cluster's broker count (`PATCH .../clusters/{id}`)."""
    session = Session.of(ctx)
    found = session.find(session.tenant_path("clusters"), cluster, "cluster")
    body = {"spec": {"brokers": brokers}}
    changed = session.client().patch(session.tenant_path("clusters", found["id"]), body)
    if output_format is output.OutputFormat.table:
        output.message(f"Cluster {found['spec']['name']} now has {brokers} broker(s) desired.")
    else:
        output.show_data(changed, output_format)


@app.command(
    "delete",
    epilog=examples(
        "strom cluster delete orders-dev --wait", "strom cluster delete clu-4fq8k2m9x7ab"
    ),
)
def delete(
    ctx: typer.Context,
    cluster: Cluster,
    wait: Wait = False,
    timeout: Timeout = DEFAULT_WAIT_TIMEOUT_S,
    output_format: Output = output.OutputFormat.table,
) -> None:
    """Start deleting a cluster: its brokers stop, its data, topics and keys go.

    Calls `DELETE /api/v1/tenants/{tenant}/clusters/{id}`, then polls the operation.
    """
    session = Session.of(ctx)
    client = session.client()
    found = session.find(session.tenant_path("clusters"), cluster, "cluster")
    name = found["spec"]["name"]
    operation = client.delete(session.tenant_path("clusters", found["id"])) or {}
    _forget(session, found["id"])
    if not wait:
        _show_started(operation, output_format, f"Deleting cluster {name} ({found['id']})")
        return
    done = wait_for_operation(client, operation, timeout, f"Deleting cluster {name}")
    if output_format is output.OutputFormat.table:
        output.message(f"Deleted cluster {name} ({found['id']}).")
    else:
        output.show_data(done, output_format)


@app.command("use", epilog=examples("strom cluster use orders-dev", "strom topic list"))
def use(ctx: typer.Context, cluster: Cluster) -> None:
    """Select the cluster that topic, ACL, produce and consume commands act on."""
    session = Session.of(ctx)
    name = session.effective().context.value
    if not name:
        raise UsageError("no context to remember the cluster in: run `strom login` first")
    found = session.find(session.tenant_path("clusters"), cluster, "cluster")
    session.config.set_value(name, "cluster", found["id"])
    session.config.save()
    output.message(f"Using cluster {found['spec']['name']} ({found['id']}) in context {name!r}.")


def _show_started(
    operation: dict[str, Any], output_format: output.OutputFormat, doing: str
) -> None:
    if output_format is not output.OutputFormat.table:
        output.show_data(operation, output_format)
        return
    output.message(f"{doing}: operation {operation['id']} is {operation['status']['phase']}.")
    output.note(f"Follow it with `strom operation wait {operation['id']}`.")


def _forget(session: Session, cluster_id: str) -> None:
    """A deleted cluster is no longer the context's selected one."""
    name = session.effective().context.value
    if name and session.config.contexts.get(name, {}).get("cluster") == cluster_id:
        session.config.set_value(name, "cluster", None)
        session.config.save()
