"""`strom acl ...`: ACL bindings on the selected cluster (`.../clusters/{cluster}/acls`).

Flags follow Kafka's `kafka-acls` (`--allow/--deny`, `--operation`, `--topic`, `--group`,
`--prefix`); the cluster resource is `--cluster-scope`, as in Confluent's CLI, because
`--cluster` selects the cluster. Each `--operation` makes one binding.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from strom.cli import output
from strom.cli.errors import UsageError
from strom.cli.options import Cluster, Output, examples
from strom.cli.session import Session

app = typer.Typer(help="Allow or deny operations to service accounts.", no_args_is_help=True)

CLUSTER_RESOURCE_NAME = "kafka-cluster"
COLUMNS: list[output.Column] = [
    ("ID", "id"),
    ("PERMISSION", "spec.permission"),
    ("OPERATION", "spec.operation"),
    ("RESOURCE", lambda item: f"{item['spec']['resource_type']}:{item['spec']['resource_name']}"),
    ("PATTERN", "spec.pattern_type"),
    ("PRINCIPAL", "spec.principal"),
    ("HOST", "spec.host"),
]


class Operation(StrEnum):
    ALL = "ALL"
    READ = "READ"
    WRITE = "WRITE"
    CREATE = "CREATE"
    DELETE = "DELETE"
    ALTER = "ALTER"
    DESCRIBE = "DESCRIBE"
    CLUSTER_ACTION = "CLUSTER_ACTION"
    DESCRIBE_CONFIGS = "DESCRIBE_CONFIGS"
    ALTER_CONFIGS = "ALTER_CONFIGS"
    IDEMPOTENT_WRITE = "IDEMPOTENT_WRITE"


Principal = Annotated[
    str | None,
    typer.Option("--principal", help="A principal, `User:<tenant-id>.<account-name>`."),
]
ServiceAccount = Annotated[
    str | None,
    typer.Option("--service-account", help="A service account's name or id (its principal)."),
]


@app.command(
    "create",
    epilog=examples(
        "strom acl create --allow --operation read --operation write --topic orders. --prefix "
        "--service-account orders-app",
        "strom acl create --allow --operation read --group orders- --prefix --service-account "
        "orders-app",
        "strom acl create --deny --operation write --topic payments --principal "
        "User:ten-4fq8k2m9x7ab.orders-app",
    ),
)
def create(
    ctx: typer.Context,
    operation: Annotated[
        list[Operation],
        typer.Option("--operation", case_sensitive=False, help="Repeatable; one binding each."),
    ],
    allow: Annotated[bool, typer.Option("--allow/--deny", help="Permission.")] = True,
    topic: Annotated[str | None, typer.Option("--topic", help="A topic (or prefix).")] = None,
    group: Annotated[str | None, typer.Option("--group", help="A consumer group.")] = None,
    transactional_id: Annotated[str | None, typer.Option("--transactional-id")] = None,
    cluster_scope: Annotated[
        bool, typer.Option("--cluster-scope", help="The cluster resource itself.")
    ] = False,
    prefix: Annotated[
        bool, typer.Option("--prefix", help="The name is a prefix (PREFIXED), not LITERAL.")
    ] = False,
    principal: Principal = None,
    service_account: ServiceAccount = None,
    host: Annotated[str, typer.Option("--host", help="Client host; * for any.")] = "*",
    cluster: Cluster = None,
    output_format: Output = output.OutputFormat.table,
) -> None:
    """Create ACL bindings on the cluster (`POST .../acls`, once per operation)."""
    resource_type, resource_name = _resource(topic, group, transactional_id, cluster_scope)
    session = Session.of(ctx)
    spec_base = {
        "principal": _principal(session, principal, service_account, required=True),
        "resource_type": resource_type,
        "resource_name": resource_name,
        "pattern_type": "PREFIXED" if prefix else "LITERAL",
        "permission": "ALLOW" if allow else "DENY",
        "host": host,
    }
    path = session.cluster_path(cluster, "acls")
    client = session.client()
    created = [
        client.post(path, {"spec": {**spec_base, "operation": op.value}})
        for op in dict.fromkeys(operation)
    ]
    if output_format is output.OutputFormat.table:
        for binding in created:
            spec = binding["spec"]
            output.message(
                f"Created {binding['id']}: {spec['permission']} {spec['operation']} on "
                f"{spec['resource_type']}:{spec['resource_name']} ({spec['pattern_type']}) "
                f"for {spec['principal']}."
            )
    else:
        output.show_data(created, output_format)


@app.command(
    "list", epilog=examples("strom acl list", "strom acl list --service-account orders-app -o json")
)
def list_bindings(
    ctx: typer.Context,
    principal: Principal = None,
    service_account: ServiceAccount = None,
    cluster: Cluster = None,
    output_format: Output = output.OutputFormat.table,
) -> None:
    """The tenant's bindings, as the cluster has them (`GET .../acls`)."""
    session = Session.of(ctx)
    params = {}
    chosen = _principal(session, principal, service_account, required=False)
    if chosen is not None:
        params["principal"] = chosen
    bindings = session.client().list_all(session.cluster_path(cluster, "acls"), params)
    output.show_list(bindings, COLUMNS, output_format, empty="No ACL bindings.")


@app.command("delete", epilog=examples("strom acl delete acl-5c1e0a9d3b7f2e64"))
def delete(
    ctx: typer.Context,
    binding_ids: Annotated[list[str], typer.Argument(help="Binding ids from `strom acl list`.")],
    cluster: Cluster = None,
) -> None:
    """Delete bindings (`DELETE .../acls/{id}`); what they allowed is denied again."""
    session = Session.of(ctx)
    client = session.client()
    path = session.cluster_path(cluster, "acls")
    for binding_id in binding_ids:
        client.delete(f"{path}/{binding_id}")
        output.message(f"Deleted ACL binding {binding_id}.")


def _resource(
    topic: str | None, group: str | None, transactional_id: str | None, cluster_scope: bool
) -> tuple[str, str]:
    given = [
        (kind, name)
        for kind, name in (
            ("TOPIC", topic),
            ("GROUP", group),
            ("TRANSACTIONAL_ID", transactional_id),
            ("CLUSTER", CLUSTER_RESOURCE_NAME if cluster_scope else None),
        )
        if name is not None
    ]
    if len(given) != 1:
        raise UsageError(
            "name exactly one resource: --topic, --group, --transactional-id or --cluster-scope"
        )
    return given[0]


def _principal(
    session: Session, principal: str | None, service_account: str | None, *, required: bool
) -> str | None:
    if principal is not None and service_account is not None:
        raise UsageError("pass --principal or --service-account, not both")
    if service_account is not None:
        account: dict[str, Any] = session.find(
            session.tenant_path("service-accounts"), service_account, "service account"
        )
        return str(account["status"]["principal"])
    if principal is None and required:
        raise UsageError("pass --service-account NAME or --principal User:…")
    return principal
