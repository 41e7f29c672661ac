"""`/api/v1/operations/{operation_id}`: poll a long-running change; and a tenant's list.

An operation's id is enough to poll it, so its route has no tenant in the path: the caller
must still be the operation's tenant (or the platform admin), else it answers 404.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from strom.controlplane.api.deps import PageDep, PrincipalDep, SessionDep, TenantScopeDep
from strom.controlplane.api.pagination import paginate
from strom.controlplane.api.route import StromRoute
from strom.controlplane.core.errors import NotFound
from strom.controlplane.models.operations import Operation, OperationList, OperationRecord

KIND = "Operation"

router = APIRouter(tags=["long-running operations"], route_class=StromRoute)


@router.get("/api/v1/operations/{operation_id}")
def get_operation(operation_id: str, principal: PrincipalDep, session: SessionDep) -> Operation:
    """One operation; poll until `status.done` (every second or two is plenty)."""
    operation = session.get(OperationRecord, operation_id)
    if operation is None or not principal.may_access(operation.tenant_id):
        raise NotFound(KIND, operation_id)
    return operation.to_api()


@router.get("/api/v1/tenants/{tenant_id}/operations")
def list_operations(request: Request, scope: TenantScopeDep, page: PageDep) -> OperationList:
    """The tenant's operations, oldest first."""
    rows, metadata = paginate(
        scope.session, scope.select(OperationRecord), OperationRecord, page, request
    )
    return OperationList(data=[row.to_api() for row in rows], metadata=metadata)
