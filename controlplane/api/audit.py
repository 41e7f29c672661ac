"""Write one audit event per answered mutation, in its own transaction.

The event is written after the route has committed or rolled back, so a failed request still
leaves a record of the attempt and a dry run is recorded as one.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.requests import Request

from strom.controlplane.api.auth import ANONYMOUS_ACTOR, Principal
from strom.controlplane.core.ids import IdPrefix, new_id
from strom.controlplane.models.audit import AuditEventRecord


def record_mutation(
    engine: Engine,
    request: Request,
    action: str,
    status_code: int,
    problem_code: str | None,
    response_body: bytes | None,
) -> None:
    """Store who did `action` on what, and how it ended."""
    principal: Principal | None = getattr(request.state, "principal", None)
    resource_id = _created_id(response_body) or _last_path_id(request)
    tenant_id = _tenant_of(request, principal, resource_id)
    event = AuditEventRecord(
        id=new_id(IdPrefix.AUDIT_EVENT),
        tenant_id=tenant_id,
        actor=principal.name if principal else ANONYMOUS_ACTOR,
        action=action,
        method=request.method,
        path=request.url.path[:500],
        resource_id=resource_id[:32] if resource_id else None,
        dry_run=bool(getattr(request.state, "dry_run", False)),
        result="success" if status_code < 400 else "failure",
        status_code=status_code,
        problem_code=problem_code,
    )
    with Session(engine) as session:
        session.add(event)
        session.commit()


def _tenant_of(
    request: Request, principal: Principal | None, resource_id: str | None
) -> str | None:
    """The tenant whose trail shows the event: the one acted on, if the caller may see it.

    An attempt on a tenant the caller may not see goes to the caller's own trail, so tenant A
    never learns who probed it (the platform admin sees every event).
    """
    if principal is None:
        return None  # unauthenticated: only the platform admin's trail shows it
    tenant_id = request.path_params.get("tenant_id")
    if tenant_id is None and resource_id and resource_id.startswith(f"{IdPrefix.TENANT}-"):
        tenant_id = resource_id  # creating a tenant
    if tenant_id is not None and principal.may_access(tenant_id):
        return tenant_id
    return principal.tenant_id


def _created_id(body: bytes | None) -> str | None:
    if not body:
        return None
    try:
        document: Any = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    object_id = document.get("id")
    if document.get("kind") == "Operation":  # a 202: the object is the operation's target
        object_id = (document.get("spec") or {}).get("target_id")
    return object_id if isinstance(object_id, str) else None


def _last_path_id(request: Request) -> str | None:
    values = [str(value) for value in request.path_params.values()]
    return values[-1] if values else None
