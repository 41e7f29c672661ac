"""`/api/v1/tenants/{tenant_id}/audit-events`: a tenant's trail, and the admin's full one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlmodel import select

from strom.controlplane.api.deps import AdminDep, PageDep, SessionDep, TenantScopeDep
from strom.controlplane.api.pagination import paginate
from strom.controlplane.api.route import StromRoute
from strom.controlplane.models.audit import AuditEvent, AuditEventList, AuditEventRecord

router = APIRouter(tags=["audit events"], route_class=StromRoute)


@router.get("/api/v1/tenants/{tenant_id}/audit-events")
def list_audit_events(request: Request, scope: TenantScopeDep, page: PageDep) -> AuditEventList:
    """The tenant's events, oldest first."""
    rows, metadata = paginate(
        scope.session, scope.select(AuditEventRecord), AuditEventRecord, page, request
    )
    return AuditEventList(data=[row.to_api() for row in rows], metadata=metadata)


@router.get("/api/v1/tenants/{tenant_id}/audit-events/{audit_event_id}")
def get_audit_event(audit_event_id: str, scope: TenantScopeDep) -> AuditEvent:
    return scope.get(AuditEventRecord, audit_event_id, "AuditEvent").to_api()


@router.get("/api/v1/audit-events")
def list_all_audit_events(
    request: Request, _admin: AdminDep, session: SessionDep, page: PageDep
) -> AuditEventList:
    """Every event, including platform-level ones outside any tenant (platform admin only)."""
    rows, metadata = paginate(session, select(AuditEventRecord), AuditEventRecord, page, request)
    return AuditEventList(data=[row.to_api() for row in rows], metadata=metadata)
