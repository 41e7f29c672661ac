"""`/api/v1/tenants`: the platform admin creates and manages tenants and their limits.

A tenant's own keys may read their tenant and its limits; any other tenant id answers 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from sqlmodel import select

from strom.controlplane.api.deps import (
    AdminDep,
    MutationDep,
    PageDep,
    SessionDep,
    TenantScope,
    TenantScopeDep,
)
from strom.controlplane.api.limits import usage
from strom.controlplane.api.pagination import paginate
from strom.controlplane.api.route import StromRoute
from strom.controlplane.core.errors import Conflict
from strom.controlplane.core.ids import IdPrefix, new_id
from strom.controlplane.models.clusters import ClusterRecord
from strom.controlplane.models.tenants import (
    LimitUnit,
    LimitUsage,
    Tenant,
    TenantCreate,
    TenantLimits,
    TenantLimitsUsage,
    TenantList,
    TenantRecord,
    TenantUpdate,
)

router = APIRouter(prefix="/api/v1/tenants", tags=["tenants"], route_class=StromRoute)

_UNITS: dict[str, LimitUnit] = {
    "max_clusters": "count",
    "max_brokers": "count",
    "max_partitions": "count",
    "max_storage_bytes": "bytes",
    "max_producer_byte_rate": "bytes_per_second",
    "max_consumer_byte_rate": "bytes_per_second",
}


@router.post("", status_code=status.HTTP_201_CREATED)
def create_tenant(body: TenantCreate, _admin: AdminDep, write: MutationDep) -> Tenant:
    """Create a tenant (platform admin only)."""
    session = write.session
    if session.exec(select(TenantRecord).where(TenantRecord.name == body.spec.name)).first():
        raise Conflict(f"A tenant named {body.spec.name!r} exists.", code="tenant_name_taken")
    tenant = TenantRecord(
        id=new_id(IdPrefix.TENANT),
        name=body.spec.name,
        display_name=body.spec.display_name,
        labels=body.metadata.labels,
        **body.spec.limits.model_dump(),
    )
    session.add(tenant)
    session.flush()
    answer = tenant.to_api()
    write.commit()
    return answer


@router.get("")
def list_tenants(
    request: Request, _admin: AdminDep, session: SessionDep, page: PageDep
) -> TenantList:
    """List all tenants (platform admin only)."""
    rows, metadata = paginate(session, select(TenantRecord), TenantRecord, page, request)
    return TenantList(data=[row.to_api() for row in rows], metadata=metadata)


@router.get("/{tenant_id}")
def get_tenant(scope: TenantScopeDep) -> Tenant:
    """One tenant: the admin may read any, a tenant's keys only their own."""
    return scope.tenant.to_api()


@router.patch("/{tenant_id}")
def update_tenant(
    body: TenantUpdate, scope: TenantScopeDep, _admin: AdminDep, write: MutationDep
) -> Tenant:
    """Change display name, labels or limits (platform admin only); the name is immutable."""
    tenant = scope.tenant
    if body.metadata is not None:
        body.metadata.apply_to(tenant)
    if body.spec is not None:
        if "display_name" in body.spec.model_fields_set:
            tenant.display_name = body.spec.display_name
        if body.spec.limits is not None:
            changed = body.spec.limits.model_dump(exclude_unset=True, exclude_none=True)
            tenant.set_limits(TenantLimits(**{**tenant.limits.model_dump(), **changed}))
    tenant.touch()
    write.session.add(tenant)
    write.session.flush()
    answer = tenant.to_api()
    write.commit()
    return answer


@router.delete("/{tenant_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_tenant(scope: TenantScopeDep, _admin: AdminDep, write: MutationDep) -> Response:
    """Delete a tenant with its service accounts and keys (platform admin only); its clusters
    must be deleted first."""
    clusters = write.session.exec(scope.select(ClusterRecord)).first()
    if clusters is not None:
        raise Conflict(
            f"Tenant {scope.tenant_id} still has clusters; delete them first.",
            code="tenant_has_clusters",
        )
    write.session.delete(scope.tenant)
    write.session.flush()
    write.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{tenant_id}/limits")
def get_tenant_limits(scope: TenantScopeDep) -> TenantLimitsUsage:
    """Each limit next to what the tenant uses of it now."""
    usage = _usage(scope)
    limits = scope.tenant.limits.model_dump()
    return TenantLimitsUsage(
        tenant_id=scope.tenant_id,
        limits=[
            LimitUsage(name=name, limit=limit, usage=usage.get(name, 0), unit=_UNITS[name])
            for name, limit in limits.items()
        ],
    )


def _usage(scope: TenantScope) -> dict[str, int]:
    """Current usage per limit (partitions as the clusters last reported them); storage and
    throughput are not measured yet and show 0."""
    return usage(scope.session, scope.tenant_id)
