"""Tenant limits: what a tenant uses now, and the check every create or resize passes first.

A rejection is a 409 problem (`tenant_limit_exceeded`) naming the limit, what is in use, what
the request adds and what is allowed, as members `limit`, `current`, `requested`, `allowed`;
nothing is created. Checks and the changes they allow run under `tenant_guard`, so two
concurrent requests cannot both squeeze under the same limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from strom.controlplane.core.errors import Conflict
from strom.controlplane.core.runtime import Runtime
from strom.controlplane.models.clusters import ClusterRecord
from strom.controlplane.models.tenants import TenantRecord

# For the OpenAPI document of every route that checks a limit.
LIMIT_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "A tenant limit would be exceeded (`tenant_limit_exceeded`, with members "
        "`limit`, `current`, `requested`, `allowed`), or another conflict; nothing changed."
    }
}


class LimitExceeded(Conflict):
    code = "tenant_limit_exceeded"

    def __init__(self, limit: str, current: int, requested: int, allowed: int) -> None:
        super().__init__(
            f"This would exceed the tenant limit {limit}: {current} in use, {requested} "
            f"requested, {allowed} allowed. Ask the platform admin to raise the limit, or free "
            "some first.",
            extra={"limit": limit, "current": current, "requested": requested, "allowed": allowed},
        )


def usage(session: Session, tenant_id: str) -> dict[str, int]:
    """What the tenant uses of each counted limit; partitions as clusters last reported."""
    clusters, brokers, partitions = session.exec(
        select(
            func.count(col(ClusterRecord.id)),
            func.coalesce(func.sum(ClusterRecord.brokers), 0),
            func.coalesce(func.sum(ClusterRecord.partitions), 0),
        ).where(col(ClusterRecord.tenant_id) == tenant_id)
    ).one()
    return {
        "max_clusters": int(clusters),
        "max_brokers": int(brokers),
        "max_partitions": int(partitions),
    }


def require_within(tenant: TenantRecord, used: dict[str, int], limit: str, requested: int) -> None:
    """Raise `LimitExceeded` unless `requested` more fits under the tenant's `limit`."""
    allowed = int(getattr(tenant, limit))
    current = used.get(limit, 0)
    if requested > 0 and current + requested > allowed:
        raise LimitExceeded(limit, current, requested, allowed)


@contextmanager
def tenant_guard(runtime: Runtime, session: Session, tenant_id: str) -> Iterator[None]:
    """Hold the tenant's lock: in this process, and (on PostgreSQL) a row lock on the tenant
    until the session's transaction ends, which covers other control-plane processes."""
    with runtime.tenant_lock(tenant_id):
        session.exec(
            select(TenantRecord).where(col(TenantRecord.id) == tenant_id).with_for_update()
        ).one()
        yield
