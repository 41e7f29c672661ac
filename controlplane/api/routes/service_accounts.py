"""`/api/v1/tenants/{tenant_id}/service-accounts`: a tenant's application identities."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from strom.controlplane.api import cluster_keys
from strom.controlplane.api.deps import MutationDep, PageDep, RuntimeDep, TenantScopeDep
from strom.controlplane.api.pagination import paginate
from strom.controlplane.api.route import StromRoute
from strom.controlplane.core.errors import Conflict
from strom.controlplane.core.ids import IdPrefix, new_id
from strom.controlplane.models.service_accounts import (
    ServiceAccount,
    ServiceAccountCreate,
    ServiceAccountList,
    ServiceAccountRecord,
    ServiceAccountUpdate,
)

KIND = "ServiceAccount"

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/service-accounts",
    tags=["service accounts"],
    route_class=StromRoute,
)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_service_account(
    body: ServiceAccountCreate, scope: TenantScopeDep, write: MutationDep
) -> ServiceAccount:
    """Create a service account; its principal is `User:<tenant-id>.<name>`."""
    taken = scope.select(ServiceAccountRecord).where(ServiceAccountRecord.name == body.spec.name)
    if write.session.exec(taken).first() is not None:
        raise Conflict(
            f"A service account named {body.spec.name!r} exists in this tenant.",
            code="service_account_name_taken",
        )
    account = ServiceAccountRecord(
        id=new_id(IdPrefix.SERVICE_ACCOUNT),
        tenant_id=scope.tenant_id,
        name=body.spec.name,
        description=body.spec.description,
        labels=body.metadata.labels,
    )
    write.session.add(account)
    write.session.flush()
    answer = account.to_api()
    write.commit()
    return answer


@router.get("")
def list_service_accounts(
    request: Request, scope: TenantScopeDep, page: PageDep
) -> ServiceAccountList:
    rows, metadata = paginate(
        scope.session, scope.select(ServiceAccountRecord), ServiceAccountRecord, page, request
    )
    return ServiceAccountList(data=[row.to_api() for row in rows], metadata=metadata)


@router.get("/{service_account_id}")
def get_service_account(service_account_id: str, scope: TenantScopeDep) -> ServiceAccount:
    return scope.get(ServiceAccountRecord, service_account_id, KIND).to_api()


@router.patch("/{service_account_id}")
def update_service_account(
    service_account_id: str,
    body: ServiceAccountUpdate,
    scope: TenantScopeDep,
    write: MutationDep,
) -> ServiceAccount:
    """Change description or labels; the name (and so the principal) is immutable."""
    account = scope.get(ServiceAccountRecord, service_account_id, KIND)
    if body.metadata is not None:
        body.metadata.apply_to(account)
    if body.spec is not None and body.spec.description is not None:
        account.description = body.spec.description
    account.touch()
    write.session.add(account)
    write.session.flush()
    answer = account.to_api()
    write.commit()
    return answer


@router.delete("/{service_account_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_service_account(
    service_account_id: str, scope: TenantScopeDep, write: MutationDep, runtime: RuntimeDep
) -> Response:
    """Delete a service account; its API keys stop working at once, and its cluster
    credentials and ACL bindings are deleted from its tenant's clusters."""
    account = scope.get(ServiceAccountRecord, service_account_id, KIND)
    cluster_keys.remove_account(runtime, scope, write, account)
    write.session.delete(account)
    write.session.flush()
    write.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
