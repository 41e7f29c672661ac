"""`/api/v1/tenants/{tenant_id}/clusters/{cluster_id}/acls`: ACL bindings, read from the cluster.

Bindings use Kafka's semantics (a matching DENY wins, else a matching ALLOW permits, else
denied; READ, WRITE, DELETE and ALTER imply DESCRIBE) and are written with CreateAcls,
listed with DescribeAcls and removed with DeleteAcls. A tenant binds only its own service
accounts' principals. ALLOW bindings that would let a principal get around the control plane
are refused: creating or resizing topics (their partitions count against the tenant's limit)
and altering the cluster (credentials, ACLs, configs belong to the control plane).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import ValidationError

from strom.controlplane.api.cluster_access import ClusterAccess, ClusterAccessDep, kafka_problems
from strom.controlplane.api.deps import MutationDep, PageDep
from strom.controlplane.api.pagination import paginate_sorted
from strom.controlplane.api.route import StromRoute
from strom.controlplane.core.errors import NotFound, Unprocessable
from strom.controlplane.kafka_admin import AclEntry
from strom.controlplane.models.acls import (
    CLUSTER_RESOURCE_NAME,
    AclBinding,
    AclBindingCreate,
    AclBindingList,
    AclBindingSpec,
    acl_binding_id,
)
from strom.controlplane.models.service_accounts import PRINCIPAL_TYPE, ServiceAccountRecord
from strom.controlplane.models.topics import ClusterObjectMetadata

KIND = "AclBinding"
# ALLOW operations kept for the control plane, per resource type, and why.
RESERVED_OPERATIONS = {
    "TOPIC": (
        frozenset({"ALL", "CREATE", "ALTER"}),
        "topics are created and resized through the control plane, so that their partitions "
        "count against the tenant's limit",
    ),
    "CLUSTER": (
        frozenset({"ALL", "CREATE", "ALTER", "ALTER_CONFIGS", "CLUSTER_ACTION"}),
        "credentials, ACLs, configs and topics of the cluster are managed by the control plane",
    ),
}

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/clusters/{cluster_id}/acls",
    tags=["ACL bindings"],
    route_class=StromRoute,
)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_acl_binding(
    body: AclBindingCreate, access: ClusterAccessDep, write: MutationDep
) -> AclBinding:
    """Bind an operation on a resource (or a name prefix) to one of the tenant's principals."""
    spec = body.spec
    _check_principal(access, spec.principal)
    _check_policy(spec)
    entry = _entry(spec)
    with kafka_problems(access.cluster.id):
        if write.dry_run:
            return _binding(access, spec)
        access.admin.create_acls([entry])
        written = entry in access.admin.describe_acls(spec.principal)
    if not written:
        raise Unprocessable(
            "The cluster did not keep the binding; check its resource name and host.",
            code="acl_binding_not_kept",
        )
    write.commit()
    return _binding(access, spec)


@router.get("")
def list_acl_bindings(
    request: Request,
    access: ClusterAccessDep,
    page: PageDep,
    principal: Annotated[
        str | None, Query(description="Only the bindings of this principal.")
    ] = None,
) -> AclBindingList:
    """The tenant's bindings on the cluster, as the cluster has them."""
    bindings = [
        binding
        for binding in _tenant_bindings(access)
        if principal is None or binding.spec.principal == principal
    ]
    rows, metadata = paginate_sorted(bindings, _sort_key, page, request)
    return AclBindingList(data=rows, metadata=metadata)


@router.get("/{acl_id}")
def get_acl_binding(acl_id: str, access: ClusterAccessDep) -> AclBinding:
    return _find(access, acl_id)


@router.delete("/{acl_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_acl_binding(acl_id: str, access: ClusterAccessDep, write: MutationDep) -> Response:
    """Remove the binding; what it allowed is denied again (unless another binding allows it)."""
    binding = _find(access, acl_id)
    if not write.dry_run:
        with kafka_problems(access.cluster.id):
            access.admin.delete_acls([_entry(binding.spec)])
    write.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _check_principal(access: ClusterAccess, principal: str) -> None:
    prefix = f"{PRINCIPAL_TYPE}:{access.scope.tenant_id}."
    name = principal.removeprefix(prefix) if principal.startswith(prefix) else None
    account = None
    if name:
        account = access.scope.session.exec(
            access.scope.select(ServiceAccountRecord).where(ServiceAccountRecord.name == name)
        ).first()
    if account is None:
        raise Unprocessable(
            f"{principal!r} is not the principal of one of this tenant's service accounts "
            f"(`{prefix}<name>`).",
            code="principal_not_in_tenant",
        )


def _check_policy(spec: AclBindingSpec) -> None:
    if spec.resource_type == "CLUSTER" and (
        spec.resource_name != CLUSTER_RESOURCE_NAME or spec.pattern_type != "LITERAL"
    ):
        raise Unprocessable(
            f"A CLUSTER binding names the LITERAL resource {CLUSTER_RESOURCE_NAME!r}.",
            code="invalid_acl_binding",
        )
    reserved, reason = RESERVED_OPERATIONS.get(spec.resource_type, (frozenset(), ""))
    if spec.permission == "ALLOW" and spec.operation in reserved:
        raise Unprocessable(
            f"ALLOW {spec.operation} on {spec.resource_type} is kept for the control plane: "
            f"{reason}.",
            code="acl_operation_reserved",
        )


def _tenant_bindings(access: ClusterAccess) -> list[AclBinding]:
    prefix = f"{PRINCIPAL_TYPE}:{access.scope.tenant_id}."
    with kafka_problems(access.cluster.id):
        entries = access.admin.describe_acls()
    bindings = []
    for entry in entries:
        if not entry.principal.startswith(prefix):
            continue
        try:
            bindings.append(_binding(access, _spec(entry)))
        except ValidationError:  # made outside the API, in terms this API does not offer
            continue
    return bindings


def _find(access: ClusterAccess, acl_id: str) -> AclBinding:
    for binding in _tenant_bindings(access):
        if binding.id == acl_id:
            return binding
    raise NotFound(KIND, acl_id)


def _binding(access: ClusterAccess, spec: AclBindingSpec) -> AclBinding:
    return AclBinding(
        id=acl_binding_id(access.cluster.id, spec),
        metadata=ClusterObjectMetadata(
            tenant_id=access.scope.tenant_id, cluster_id=access.cluster.id
        ),
        spec=spec,
    )


def _entry(spec: AclBindingSpec) -> AclEntry:
    return AclEntry(**spec.model_dump())


def _spec(entry: AclEntry) -> AclBindingSpec:
    return AclBindingSpec.model_validate(
        {field: getattr(entry, field) for field in AclBindingSpec.model_fields}
    )


def _sort_key(binding: AclBinding) -> str:
    spec = binding.spec
    return "\0".join(
        (spec.resource_type, spec.resource_name, spec.principal, spec.operation, binding.id)
    )
