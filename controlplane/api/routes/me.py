"""`/api/v1/me`: who the presented token stands for (what `strom login` shows)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from strom.controlplane.api.deps import PrincipalDep
from strom.controlplane.api.route import StromRoute

router = APIRouter(tags=["identity"], route_class=StromRoute)


class Identity(BaseModel):
    principal: str = Field(description="`admin`, or the service account's canonical principal.")
    admin: bool
    tenant_id: str | None = None
    service_account_id: str | None = None
    api_key_id: str | None = None


@router.get("/api/v1/me")
def get_identity(principal: PrincipalDep) -> Identity:
    return Identity(
        principal=principal.name,
        admin=principal.is_admin,
        tenant_id=principal.tenant_id,
        service_account_id=principal.service_account_id,
        api_key_id=principal.api_key_id,
    )
