"""Who is calling: the platform admin (admin token) or a service account (API key).

Every failure answers the same 401, whether the key id is unknown or the secret is wrong, so
the answer does not tell a guesser which part was right.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from strom.controlplane.core.errors import Unauthenticated
from strom.controlplane.core.runtime import Runtime
from strom.controlplane.core.security import parse_api_key_token, tokens_equal
from strom.controlplane.models.api_keys import ApiKeyRecord
from strom.controlplane.models.base import utcnow
from strom.controlplane.models.service_accounts import ServiceAccountRecord

ADMIN_ACTOR = "admin"
ANONYMOUS_ACTOR = "anonymous"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller; `name` is what audit events record as the actor."""

    name: str
    tenant_id: str | None
    service_account_id: str | None = None
    api_key_id: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.tenant_id is None

    def may_access(self, tenant_id: str) -> bool:
        return self.is_admin or self.tenant_id == tenant_id


ADMIN = Principal(name=ADMIN_ACTOR, tenant_id=None)


def authenticate(runtime: Runtime, session: Session, token: str | None) -> Principal:
    """The principal a bearer token stands for; raises `Unauthenticated`."""
    if not token:
        raise Unauthenticated("Send `Authorization: Bearer <token>`: an API key or admin token.")
    if runtime.admin_token is not None and tokens_equal(token, runtime.admin_token):
        return ADMIN
    parsed = parse_api_key_token(token)
    key = session.get(ApiKeyRecord, parsed.key_id) if parsed else None
    if parsed is None or key is None or not _secret_matches(runtime, key, parsed.secret):
        raise Unauthenticated("The bearer token is not a valid API key or admin token.")
    if key.scope != "controlplane":
        raise Unauthenticated(
            f"API key {key.id} is a {key.scope} key: use it as SASL credentials on its cluster."
        )
    phase = key.phase()
    if phase != "ACTIVE":
        raise Unauthenticated(f"API key {key.id} is {phase.lower()}.")
    account = session.get(ServiceAccountRecord, key.service_account_id)
    if account is None:  # deleted with its keys by cascade; only a race lands here
        raise Unauthenticated(f"API key {key.id} has no owner.")
    return Principal(
        name=account.principal,
        tenant_id=account.tenant_id,
        service_account_id=account.id,
        api_key_id=key.id,
    )


def _secret_matches(runtime: Runtime, key: ApiKeyRecord, secret: str) -> bool:
    if runtime.hasher.verify(key.secret_hash, secret):
        return True
    in_grace = (
        key.previous_secret_hash is not None
        and key.previous_secret_expires_at is not None
        and key.previous_secret_expires_at > utcnow()
    )
    return in_grace and runtime.hasher.verify(key.previous_secret_hash or "", secret)
