"""Typed dependencies every route declares: session, caller, tenant scope, mutation, page.

Tenant scoping lives here, not in each route's queries: a tenant route takes `TenantScopeDep`,
which answers 404 for any tenant the caller may not see and reads objects only through
`scope.get` / `scope.select`, both filtered by the tenant. A guessed id of another tenant's
object is therefore indistinguishable from an id that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session, SQLModel, select
from sqlmodel.sql.expression import SelectOfScalar

from strom.controlplane.api.auth import Principal, authenticate
from strom.controlplane.api.pagination import PageRequest, page_request
from strom.controlplane.core.errors import Forbidden, NotFound
from strom.controlplane.core.runtime import Runtime
from strom.controlplane.models.tenants import TenantRecord

Row = TypeVar("Row", bound=SQLModel)

_bearer = HTTPBearer(
    auto_error=False,
    description="An API key token `<key-id>.<secret>`, or the platform admin token.",
)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(request: Request, runtime: RuntimeDep) -> Iterator[Session]:
    """One session per request; objects stay readable after commit for building answers."""
    with Session(runtime.engine, expire_on_commit=False) as session:
        request.state.session = session  # rolled back by the route class when a write fails
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def current_principal(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    principal = authenticate(runtime, session, credentials.credentials if credentials else None)
    request.state.principal = principal  # read by the audit trail
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def require_admin(principal: PrincipalDep) -> Principal:
    if not principal.is_admin:
        raise Forbidden("Only the platform admin may do this.", code="admin_required")
    return principal


AdminDep = Annotated[Principal, Depends(require_admin)]


@dataclass(frozen=True, slots=True)
class TenantScope:
    """The tenant a request acts in, and the only door to that tenant's rows."""

    tenant: TenantRecord
    session: Session

    @property
    def tenant_id(self) -> str:
        return self.tenant.id

    def get(self, model: type[Row], object_id: str, kind: str) -> Row:
        """The tenant's object with this id; 404 when it is missing or another tenant's."""
        row = self.session.get(model, object_id)
        if row is None or getattr(row, "tenant_id", None) != self.tenant.id:
            raise NotFound(kind, object_id)
        return row

    def select(self, model: type[Row]) -> SelectOfScalar[Row]:
        """A query over the tenant's rows of `model`."""
        column: Any = model.tenant_id  # type: ignore[attr-defined]
        return select(model).where(column == self.tenant.id)


def tenant_scope(
    tenant_id: Annotated[str, Path(description="The tenant's id (`ten-…`).")],
    principal: PrincipalDep,
    session: SessionDep,
) -> TenantScope:
    tenant = session.get(TenantRecord, tenant_id) if principal.may_access(tenant_id) else None
    if tenant is None:
        raise NotFound("Tenant", tenant_id)
    return TenantScope(tenant, session)


TenantScopeDep = Annotated[TenantScope, Depends(tenant_scope)]


@dataclass(frozen=True, slots=True)
class Mutation:
    """A write's transaction: `commit()` rolls back instead when the request is a dry run."""

    session: Session
    dry_run: bool

    def commit(self) -> None:
        if self.dry_run:
            self.session.rollback()
        else:
            self.session.commit()


def mutation(
    request: Request,
    session: SessionDep,
    dry_run: Annotated[
        bool,
        Query(description="Validate and answer as if done, but change nothing."),
    ] = False,
) -> Mutation:
    request.state.dry_run = dry_run  # read by the audit trail
    return Mutation(session, dry_run)


MutationDep = Annotated[Mutation, Depends(mutation)]
PageDep = Annotated[PageRequest, Depends(page_request)]
