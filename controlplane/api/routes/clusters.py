"""`/api/v1/tenants/{tenant_id}/clusters`: a tenant's clusters.

Creating and deleting a cluster only records the desired state and answer `202 Accepted` with
an operation; the reconciler does the work and finishes the operation. Creation passes the
tenant's limits (clusters, brokers) first.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request, Response, status
from sqlmodel import col, select

from strom.controlplane.api.deps import MutationDep, PageDep, RuntimeDep, TenantScopeDep
from strom.controlplane.api.limits import LIMIT_RESPONSES, require_within, tenant_guard, usage
from strom.controlplane.api.pagination import paginate
from strom.controlplane.api.route import StromRoute
from strom.controlplane.core.errors import Conflict, Unprocessable
from strom.controlplane.core.ids import IdPrefix, new_id
from strom.controlplane.models.base import utcnow
from strom.controlplane.models.clusters import (
    SUPPORTED_PLANS,
    Cluster,
    ClusterCreate,
    ClusterList,
    ClusterRecord,
    ClusterUpdate,
)
from strom.controlplane.models.operations import Operation, OperationRecord, OperationType

KIND = "Cluster"
# The control plane's super user on every cluster; tenants' usernames all start with `ten-`.
ADMIN_USERNAME = "strom-controlplane"
DEV_BROKERS = 1
_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"description": "Accepted: poll the operation until `status.done`."}
}

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/clusters", tags=["clusters"], route_class=StromRoute
)


@router.post("", status_code=status.HTTP_202_ACCEPTED, responses={**_ACCEPTED, **LIMIT_RESPONSES})
def create_cluster(
    body: ClusterCreate,
    scope: TenantScopeDep,
    write: MutationDep,
    runtime: RuntimeDep,
    response: Response,
) -> Operation:
    """Start creating a cluster; the answer is the operation to poll."""
    if body.spec.plan not in SUPPORTED_PLANS:
        raise Unprocessable(
            f"Plan {body.spec.plan!r} is not supported yet; only `dev` clusters (one broker "
            "process run by the control plane) are.",
            code="plan_not_supported",
        )
    _check_brokers(body.spec.brokers)
    session = write.session
    with tenant_guard(runtime, session, scope.tenant_id):
        taken = scope.select(ClusterRecord).where(col(ClusterRecord.name) == body.spec.name)
        if session.exec(taken).first() is not None:
            raise Conflict(
                f"A cluster named {body.spec.name!r} exists in this tenant.",
                code="cluster_name_taken",
            )
        used = usage(session, scope.tenant_id)
        require_within(scope.tenant, used, "max_clusters", 1)
        require_within(scope.tenant, used, "max_brokers", body.spec.brokers)
        cluster = ClusterRecord(
            id=new_id(IdPrefix.CLUSTER),
            tenant_id=scope.tenant_id,
            name=body.spec.name,
            plan=body.spec.plan,
            brokers=body.spec.brokers,
            labels=body.metadata.labels,
            admin_username=ADMIN_USERNAME,
            admin_password=secrets.token_urlsafe(32),
        )
        session.add(cluster)
        operation = _start(write, cluster, "CREATE_CLUSTER")
        answer = operation.to_api()
        write.commit()
    return _accepted(runtime, write.dry_run, response, answer)


@router.get("")
def list_clusters(request: Request, scope: TenantScopeDep, page: PageDep) -> ClusterList:
    rows, metadata = paginate(
        scope.session, scope.select(ClusterRecord), ClusterRecord, page, request
    )
    return ClusterList(data=[row.to_api() for row in rows], metadata=metadata)


@router.get("/{cluster_id}")
def get_cluster(cluster_id: str, scope: TenantScopeDep) -> Cluster:
    return scope.get(ClusterRecord, cluster_id, KIND).to_api()


@router.patch("/{cluster_id}")
def update_cluster(
    cluster_id: str, body: ClusterUpdate, scope: TenantScopeDep, write: MutationDep
) -> Cluster:
    """Change labels, or scale (`spec.brokers`; `dev` clusters keep their one broker)."""
    cluster = scope.get(ClusterRecord, cluster_id, KIND)
    if cluster.deletion_requested_at is not None:
        raise Conflict(f"Cluster {cluster.id} is being deleted.", code="cluster_deleting")
    if body.spec is not None and body.spec.brokers is not None:
        _check_brokers(body.spec.brokers)
    if body.metadata is not None:
        body.metadata.apply_to(cluster)
    cluster.touch()
    write.session.add(cluster)
    write.session.flush()
    answer = cluster.to_api()
    write.commit()
    return answer


@router.delete("/{cluster_id}", status_code=status.HTTP_202_ACCEPTED, responses=_ACCEPTED)
def delete_cluster(
    cluster_id: str,
    scope: TenantScopeDep,
    write: MutationDep,
    runtime: RuntimeDep,
    response: Response,
) -> Operation:
    """Start deleting a cluster: its brokers stop and its data, topics and keys are removed."""
    cluster = scope.get(ClusterRecord, cluster_id, KIND)
    if cluster.deletion_requested_at is not None:
        running = write.session.exec(
            select(OperationRecord)
            .where(col(OperationRecord.target_id) == cluster.id)
            .where(col(OperationRecord.type) == "DELETE_CLUSTER")
            .order_by(col(OperationRecord.created_at).desc())
        ).first()
        if running is not None:
            return _accepted(runtime, write.dry_run, response, running.to_api())
    cluster.deletion_requested_at = utcnow()
    cluster.touch()
    write.session.add(cluster)
    answer = _start(write, cluster, "DELETE_CLUSTER").to_api()
    write.commit()
    return _accepted(runtime, write.dry_run, response, answer)


def _check_brokers(brokers: int) -> None:
    if brokers != DEV_BROKERS:
        raise Unprocessable(
            f"A dev cluster has exactly {DEV_BROKERS} broker; {brokers} were asked. The broker "
            "does not replicate across nodes yet, so clusters cannot be scaled out.",
            code="brokers_not_supported",
        )


def _start(write: MutationDep, cluster: ClusterRecord, kind: OperationType) -> OperationRecord:
    operation = OperationRecord(
        id=new_id(IdPrefix.OPERATION),
        tenant_id=cluster.tenant_id,
        type=kind,
        target_kind=KIND,
        target_id=cluster.id,
    )
    write.session.add(operation)
    write.session.flush()
    return operation


def _accepted(
    runtime: RuntimeDep, dry_run: bool, response: Response, answer: Operation
) -> Operation:
    response.headers["Location"] = f"/api/v1/operations/{answer.id}"
    if not dry_run:
        runtime.reconciler.wake()
    return answer
