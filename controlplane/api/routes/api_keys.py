"""`/api/v1/tenants/{tenant_id}/api-keys`: credentials of service accounts.

A `controlplane` key opens this API; a `cluster` key is a SASL/SCRAM credential on one cluster
(see `api.cluster_keys`). The secret is generated here, hashed with argon2id, and shown only
in the answers to create and rotate. Dry runs create no secret at all, so none is shown.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from strom.controlplane.api import cluster_keys
from strom.controlplane.api.deps import MutationDep, PageDep, RuntimeDep, TenantScopeDep
from strom.controlplane.api.pagination import paginate
from strom.controlplane.api.route import StromRoute
from strom.controlplane.core.errors import Conflict, Unprocessable
from strom.controlplane.core.ids import IdPrefix, new_id
from strom.controlplane.core.security import ApiKeyToken, new_secret
from strom.controlplane.models.api_keys import (
    ApiKey,
    ApiKeyCreate,
    ApiKeyList,
    ApiKeyRecord,
    ApiKeyRotate,
    ApiKeyUpdate,
    ApiKeyWithSecret,
)
from strom.controlplane.models.base import utcnow
from strom.controlplane.models.clusters import ClusterRecord
from strom.controlplane.models.service_accounts import ServiceAccountRecord

KIND = "ApiKey"

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/api-keys", tags=["API keys"], route_class=StromRoute
)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_api_key(
    body: ApiKeyCreate, scope: TenantScopeDep, write: MutationDep, runtime: RuntimeDep
) -> ApiKeyWithSecret:
    """Create a key for one of the tenant's service accounts; the secret is shown only now.

    A cluster key's credential is written to its cluster before the answer; the key is
    ACTIVE when the broker has confirmed it, PENDING until then.
    """
    owner = scope.get(ServiceAccountRecord, body.spec.service_account_id, "ServiceAccount")
    cluster_keys.check_spec(body.spec)
    if body.spec.expires_at is not None and body.spec.expires_at <= utcnow():
        raise Unprocessable("spec.expires_at is in the past.", code="expires_in_past")
    cluster = cluster_keys.cluster_of(scope, body.spec, owner) if body.spec.cluster_id else None
    secret = None if write.dry_run else new_secret()
    key = ApiKeyRecord(
        id=new_id(IdPrefix.API_KEY),
        tenant_id=scope.tenant_id,
        service_account_id=owner.id,
        scope=body.spec.scope,
        cluster_id=cluster.id if cluster else None,
        description=body.spec.description,
        expires_at=body.spec.expires_at,
        secret_hash=runtime.hasher.hash(secret) if secret else "",
        labels=body.metadata.labels,
    )
    write.session.add(key)
    write.session.flush()
    if cluster is not None:
        cluster_keys.provision(runtime, cluster, key, owner, secret)
        write.session.add(key)
        write.session.flush()
    answer = _with_secret(_public(scope, key), secret)
    write.commit()
    return answer


@router.get("")
def list_api_keys(
    request: Request,
    scope: TenantScopeDep,
    page: PageDep,
    service_account_id: Annotated[
        str | None, Query(description="Only the keys of this service account.")
    ] = None,
) -> ApiKeyList:
    statement = scope.select(ApiKeyRecord)
    if service_account_id is not None:
        statement = statement.where(ApiKeyRecord.service_account_id == service_account_id)
    rows, metadata = paginate(scope.session, statement, ApiKeyRecord, page, request)
    return ApiKeyList(data=[_public(scope, row) for row in rows], metadata=metadata)


@router.get("/{api_key_id}")
def get_api_key(api_key_id: str, scope: TenantScopeDep) -> ApiKey:
    return _public(scope, scope.get(ApiKeyRecord, api_key_id, KIND))


@router.patch("/{api_key_id}")
def update_api_key(
    api_key_id: str, body: ApiKeyUpdate, scope: TenantScopeDep, write: MutationDep
) -> ApiKey:
    key = scope.get(ApiKeyRecord, api_key_id, KIND)
    if body.metadata is not None:
        body.metadata.apply_to(key)
    if body.spec is not None and body.spec.description is not None:
        key.description = body.spec.description
    key.touch()
    write.session.add(key)
    write.session.flush()
    answer = _public(scope, key)
    write.commit()
    return answer


@router.post("/{api_key_id}/rotate")
def rotate_api_key(
    api_key_id: str,
    scope: TenantScopeDep,
    write: MutationDep,
    runtime: RuntimeDep,
    body: ApiKeyRotate | None = None,
) -> ApiKeyWithSecret:
    """Issue a new secret for the same key id; the old one works for the grace period only.

    A cluster key's new secret replaces the old one on the broker at once (Kafka keeps one
    SCRAM credential per user), so cluster keys take no grace period.
    """
    key = scope.get(ApiKeyRecord, api_key_id, KIND)
    if key.phase() not in ("ACTIVE", "PENDING"):
        raise Conflict(f"API key {key.id} is {key.phase().lower()}.", code="api_key_not_active")
    grace = timedelta(seconds=(body or ApiKeyRotate()).grace_period_seconds)
    if grace and key.scope == "cluster":
        raise Unprocessable(
            "Cluster keys cannot keep their old secret: Kafka holds one SCRAM credential per "
            "user. Rotate with grace_period_seconds 0.",
            code="grace_period_not_supported",
        )
    now = utcnow()
    secret = None if write.dry_run else new_secret()
    key.previous_secret_hash = key.secret_hash if grace else None
    key.previous_secret_expires_at = now + grace if grace else None
    key.secret_hash = runtime.hasher.hash(secret) if secret else key.secret_hash
    key.rotated_at = now
    if key.cluster_id is not None:
        owner = scope.get(ServiceAccountRecord, key.service_account_id, "ServiceAccount")
        cluster = scope.get(ClusterRecord, key.cluster_id, "Cluster")
        cluster_keys.provision(runtime, cluster, key, owner, secret)
    key.touch()
    write.session.add(key)
    write.session.flush()
    answer = _with_secret(_public(scope, key), secret)
    write.commit()
    return answer


@router.post("/{api_key_id}/revoke")
def revoke_api_key(
    api_key_id: str, scope: TenantScopeDep, write: MutationDep, runtime: RuntimeDep
) -> ApiKey:
    """Stop the key working at once (a cluster key's credential is deleted on the broker);
    it stays listed, as REVOKED, for the record."""
    key = scope.get(ApiKeyRecord, api_key_id, KIND)
    if key.revoked_at is None:
        if not write.dry_run:
            cluster_keys.remove(runtime, scope, key, _owner(scope, key))
        key.revoked_at = utcnow()
        key.previous_secret_hash = None
        key.previous_secret_expires_at = None
        key.touch()
        write.session.add(key)
        write.session.flush()
    answer = _public(scope, key)
    write.commit()
    return answer


@router.delete("/{api_key_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_api_key(
    api_key_id: str, scope: TenantScopeDep, write: MutationDep, runtime: RuntimeDep
) -> Response:
    """Delete the key; it stops working at once (a cluster key's credential is deleted)."""
    key = scope.get(ApiKeyRecord, api_key_id, KIND)
    if not write.dry_run:
        cluster_keys.remove(runtime, scope, key, _owner(scope, key))
    write.session.delete(key)
    write.session.flush()
    write.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _owner(scope: TenantScopeDep, key: ApiKeyRecord) -> ServiceAccountRecord:
    return scope.get(ServiceAccountRecord, key.service_account_id, "ServiceAccount")


def _public(scope: TenantScopeDep, key: ApiKeyRecord) -> ApiKey:
    owner = _owner(scope, key)
    return key.to_api(owner.principal, cluster_keys.kafka_credentials(scope, key, owner))


def _with_secret(key: ApiKey, secret: str | None) -> ApiKeyWithSecret:
    opens_api = secret is not None and key.spec.scope == "controlplane"
    token = str(ApiKeyToken(key.id, secret)) if opens_api and secret else None
    return ApiKeyWithSecret(**key.model_dump(), secret=secret, token=token)
