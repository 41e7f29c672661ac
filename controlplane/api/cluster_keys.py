"""The cluster side of API keys: a `cluster` key is a SCRAM-SHA-512 credential on its cluster.

Creating or rotating one writes the credential with AlterUserScramCredentials and marks the
key ACTIVE once DescribeUserScramCredentials shows it (else it stays PENDING and the reconciler
confirms it later). Revoking or deleting it, or deleting its service account, deletes the
credential on the broker first; a cluster that is being deleted takes its credentials along.
"""

from __future__ import annotations

from sqlmodel import col

from strom.controlplane import cluster_credentials
from strom.controlplane.api.cluster_access import kafka_problems, ready_cluster_admin
from strom.controlplane.api.deps import Mutation, TenantScope
from strom.controlplane.core.errors import Conflict, Unprocessable
from strom.controlplane.core.runtime import Runtime
from strom.controlplane.models.api_keys import ApiKeyRecord, ApiKeySpec, KafkaCredentials
from strom.controlplane.models.base import utcnow
from strom.controlplane.models.clusters import (
    SASL_MECHANISM,
    SECURITY_PROTOCOL,
    ClusterRecord,
)
from strom.controlplane.models.service_accounts import ServiceAccountRecord, kafka_username


def check_spec(spec: ApiKeySpec) -> None:
    """The scope and the cluster go together; cluster keys do not expire (yet)."""
    if spec.scope == "cluster":
        if spec.cluster_id is None:
            raise Unprocessable("A cluster key needs spec.cluster_id.", code="cluster_id_required")
        if spec.expires_at is not None:
            raise Unprocessable(
                "Cluster keys do not expire yet; revoke the key instead.",
                code="expiry_not_supported",
            )
    elif spec.cluster_id is not None:
        raise Unprocessable(
            "spec.cluster_id is for cluster keys (scope `cluster`) only.",
            code="cluster_id_not_allowed",
        )


def cluster_of(scope: TenantScope, spec: ApiKeySpec, owner: ServiceAccountRecord) -> ClusterRecord:
    """The key's cluster; refuses a second live key of one account on one cluster, because
    Kafka keeps a single SCRAM credential per user and mechanism."""
    assert spec.cluster_id is not None
    cluster = scope.get(ClusterRecord, spec.cluster_id, "Cluster")
    live = scope.session.exec(
        scope.select(ApiKeyRecord)
        .where(col(ApiKeyRecord.cluster_id) == cluster.id)
        .where(col(ApiKeyRecord.service_account_id) == owner.id)
        .where(col(ApiKeyRecord.revoked_at).is_(None))
    ).first()
    if live is not None:
        raise Conflict(
            f"Service account {owner.id} already has cluster key {live.id} on {cluster.id}; "
            "Kafka keeps one SCRAM credential per user, so rotate or revoke that key instead.",
            code="cluster_key_exists",
        )
    return cluster


def provision(
    runtime: Runtime,
    cluster: ClusterRecord,
    key: ApiKeyRecord,
    owner: ServiceAccountRecord,
    secret: str | None,
) -> None:
    """Write the key's credential on its cluster (nothing on a dry run, which has no secret)."""
    admin = ready_cluster_admin(runtime, cluster)
    key.confirmed_at = None
    if secret is None:
        return
    username = kafka_username(owner.tenant_id, owner.name)
    timeout_s = runtime.settings.cluster_key_confirm_timeout_seconds
    with kafka_problems(cluster.id):
        if cluster_credentials.provision(admin, username, secret, timeout_s):
            key.confirmed_at = utcnow()


def remove(
    runtime: Runtime, scope: TenantScope, key: ApiKeyRecord, owner: ServiceAccountRecord
) -> None:
    """Delete a live cluster key's credential from its cluster."""
    if key.scope != "cluster" or key.revoked_at is not None or key.cluster_id is None:
        return
    cluster = scope.session.get(ClusterRecord, key.cluster_id)
    if cluster is None or cluster.deletion_requested_at is not None:
        return  # the credential goes with the cluster
    admin = ready_cluster_admin(runtime, cluster)
    with kafka_problems(cluster.id):
        cluster_credentials.remove(admin, kafka_username(owner.tenant_id, owner.name))


def remove_account(
    runtime: Runtime, scope: TenantScope, write: Mutation, owner: ServiceAccountRecord
) -> None:
    """Before an account goes: its cluster credentials and its ACL bindings on every READY
    cluster, so a later account of the same name inherits neither."""
    keys = scope.session.exec(
        scope.select(ApiKeyRecord).where(col(ApiKeyRecord.service_account_id) == owner.id)
    ).all()
    if write.dry_run:
        return
    for key in keys:
        remove(runtime, scope, key, owner)
    for cluster in scope.session.exec(scope.select(ClusterRecord)).all():
        if not cluster.is_ready:
            continue
        admin = ready_cluster_admin(runtime, cluster)
        with kafka_problems(cluster.id):
            bindings = admin.describe_acls(owner.principal)
            if bindings:
                admin.delete_acls(bindings)


def kafka_credentials(
    scope: TenantScope, key: ApiKeyRecord, owner: ServiceAccountRecord
) -> KafkaCredentials | None:
    """What a client needs to use a cluster key, besides its secret."""
    if key.cluster_id is None:
        return None
    cluster = scope.session.get(ClusterRecord, key.cluster_id)
    return KafkaCredentials(
        bootstrap_servers=list(cluster.bootstrap_servers) if cluster is not None else [],
        security_protocol=SECURITY_PROTOCOL,
        sasl_mechanism=SASL_MECHANISM,
        sasl_username=kafka_username(owner.tenant_id, owner.name),
    )
