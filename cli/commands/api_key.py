"""`strom api-key ...`: credentials of service accounts (`/api/v1/tenants/{tenant}/api-keys`).

A `controlplane` key is a bearer token for this API (and `strom login`); a `cluster` key is
a SASL/SCRAM-SHA-512 credential on one cluster, for Kafka clients and `strom produce|consume`.
The secret is shown once, in the answer to create.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from strom.cli import output
from strom.cli.errors import UsageError
from strom.cli.options import Cluster, Output, examples
from strom.cli.session import Session

app = typer.Typer(help="Create and manage API keys.", no_args_is_help=True)

COLUMNS: list[output.Column] = [
    ("ID", "id"),
    ("SERVICE ACCOUNT", "spec.service_account_id"),
    ("SCOPE", "spec.scope"),
    ("CLUSTER", "spec.cluster_id"),
    ("PHASE", "status.phase"),
    ("DESCRIPTION", "spec.description"),
]
SECRET_WARNING = "this is the only time the secret is shown: store it now, it cannot be shown again"


class Scope(StrEnum):
    controlplane = "controlplane"
    cluster = "cluster"


ServiceAccount = Annotated[
    str | None,
    typer.Option("--service-account", help="The owner: a service account's name or id."),
]
Key = Annotated[str, typer.Argument(help="The key's id (`key-…`).", show_default=False)]


@app.command(
    "create",
    epilog=examples(
        "strom api-key create --service-account deployer",
        "strom api-key create --service-account orders-app --cluster orders-dev --use",
    ),
)
def create(
    ctx: typer.Context,
    service_account: ServiceAccount = None,
    scope: Annotated[
        Scope | None,
        typer.Option(
            "--scope",
            help="controlplane (this API) or cluster (SASL on one cluster); default: cluster "
            "when --cluster is given, else controlplane.",
            show_default=False,
        ),
    ] = None,
    cluster: Cluster = None,
    description: Annotated[str, typer.Option("--description")] = "",
    use: Annotated[
        bool,
        typer.Option("--use", help="Remember a cluster key for `strom produce|consume`."),
    ] = False,
    output_format: Output = output.OutputFormat.table,
) -> None:
    """Create a key; its secret is printed this once (`POST .../api-keys`)."""
    if service_account is None:
        raise UsageError("pass `--service-account NAME` (the key's owner)")
    session = Session.of(ctx)
    owner = session.find(
        session.tenant_path("service-accounts"), service_account, "service account"
    )
    chosen = scope or (Scope.cluster if cluster else Scope.controlplane)
    spec: dict[str, Any] = {
        "service_account_id": owner["id"],
        "scope": chosen.value,
        "description": description,
    }
    if chosen is Scope.cluster:
        spec["cluster_id"] = session.cluster_id(cluster)
    elif cluster or use:
        raise UsageError("--cluster and --use are for cluster keys (`--scope cluster`)")
    key = session.client().post(session.tenant_path("api-keys"), {"spec": spec})
    if use:
        remember(session, key["spec"]["cluster_id"], key["id"], key["secret"])
    if output_format is output.OutputFormat.table:
        output.show_object(_shown(key, owner), output_format)
    else:
        output.show_data(key, output_format)
    output.warning(SECRET_WARNING)


@app.command(
    "list",
    epilog=examples(
        "strom api-key list", "strom api-key list --service-account orders-app -o json"
    ),
)
def list_keys(
    ctx: typer.Context,
    service_account: ServiceAccount = None,
    output_format: Output = output.OutputFormat.table,
) -> None:
    """The tenant's keys, without secrets (`GET .../api-keys`)."""
    session = Session.of(ctx)
    params = {}
    if service_account is not None:
        owner = session.find(
            session.tenant_path("service-accounts"), service_account, "service account"
        )
        params["service_account_id"] = owner["id"]
    keys = session.client().list_all(session.tenant_path("api-keys"), params)
    output.show_list(keys, COLUMNS, output_format, empty="No API keys.")


@app.command("describe", epilog=examples("strom api-key describe key-9x7abq4fk2m8"))
def describe(
    ctx: typer.Context, key: Key, output_format: Output = output.OutputFormat.table
) -> None:
    """One key, without its secret (`GET .../api-keys/{id}`)."""
    session = Session.of(ctx)
    output.show_object(session.client().get(session.tenant_path("api-keys", key)), output_format)


@app.command("delete", epilog=examples("strom api-key delete key-9x7abq4fk2m8"))
def delete(ctx: typer.Context, key: Key) -> None:
    """Delete a key; a cluster key's credential is removed from its cluster too."""
    session = Session.of(ctx)
    session.client().delete(session.tenant_path("api-keys", key))
    _forget(session, key)
    output.message(f"Deleted API key {key}.")


@app.command(
    "use",
    epilog=examples(
        'strom api-key use key-9x7abq4fk2m8 --secret "$SECRET"', "strom produce orders --value hi"
    ),
)
def use(
    ctx: typer.Context,
    key: Key,
    secret: Annotated[
        str | None,
        typer.Option("--secret", help="The key's secret, as printed by `api-key create`."),
    ] = None,
) -> None:
    """Remember a cluster key (with its secret) for `strom produce|consume` on its cluster."""
    session = Session.of(ctx)
    found = session.client().get(session.tenant_path("api-keys", key))
    if found["spec"]["scope"] != Scope.cluster:
        raise UsageError(
            f"{key} is a {found['spec']['scope']} key; produce and consume need a cluster key"
        )
    given = secret or output.ask_secret("Secret")
    remember(session, found["spec"]["cluster_id"], key, given)
    output.message(f"Using API key {key} on cluster {found['spec']['cluster_id']}.")


def remember(session: Session, cluster_id: str, key_id: str, secret: str) -> None:
    """Store a cluster key in the context in effect, for that cluster."""
    name = session.effective().context.value
    if not name:
        raise UsageError("no context to remember the key in: run `strom login` first")
    keys = session.config.contexts.setdefault(name, {}).setdefault("cluster_keys", {})
    keys[cluster_id] = {"api_key": key_id, "api_secret": secret}
    session.config.save()


def _forget(session: Session, key_id: str) -> None:
    name = session.effective().context.value
    keys = session.config.contexts.get(name or "", {}).get("cluster_keys", {})
    stale = [cluster for cluster, stored in keys.items() if stored.get("api_key") == key_id]
    for cluster in stale:
        del keys[cluster]
    if stale:
        session.config.save()


def _shown(key: dict[str, Any], owner: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": key["id"],
        "service_account": f"{owner['spec']['name']} ({owner['id']})",
        "scope": key["spec"]["scope"],
        "phase": key["status"]["phase"],
        "secret": key["secret"],
    }
    if key.get("token"):
        shown["token"] = key["token"]
    kafka = key["status"].get("kafka")
    if kafka:
        shown["cluster"] = key["spec"]["cluster_id"]
        shown["bootstrap_servers"] = kafka["bootstrap_servers"]
        shown["sasl_username"] = kafka["sasl_username"]
        shown["sasl_mechanism"] = kafka["sasl_mechanism"]
        shown["security_protocol"] = kafka["security_protocol"]
    return shown
