"""The ACL authorizer, with Kafka's StandardAuthorizer semantics: super users pass; a
matching DENY wins; else a matching ALLOW (directly, through ALL, or through an implied
operation) permits; else, when no ACL names the resource at all,
`allow.everyone.if.no.acl.found` decides."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from strom.broker.security.acls import (
    IMPLIED_BY,
    WILDCARD,
    WILDCARD_PRINCIPAL,
    AclBinding,
    AclOperation,
    AclPermissionType,
    ResourceType,
)


@dataclass(frozen=True, slots=True)
class AuthorizerSettings:
    enabled: bool
    super_users: frozenset[str]
    allow_everyone_if_no_acl_found: bool


class Authorizer:
    def __init__(self, settings: AuthorizerSettings, bindings: Callable[[], Iterable[AclBinding]]):
        self._settings = settings
        self._bindings = bindings

    @property
    def enabled(self) -> bool:
        return self._settings.enabled

    def authorize(
        self,
        principal: str,
        host: str,
        operation: AclOperation,
        resource_type: ResourceType,
        resource_name: str,
    ) -> bool:
        settings = self._settings
        if not settings.enabled or principal in settings.super_users:
            return True
        on_resource = [
            b for b in self._bindings() if b.matches_resource(resource_type, resource_name)
        ]
        if not on_resource:
            return settings.allow_everyone_if_no_acl_found
        applicable = [
            b
            for b in on_resource
            if b.principal in (principal, WILDCARD_PRINCIPAL) and b.host in (host, WILDCARD)
        ]
        if any(
            b.permission_type == AclPermissionType.DENY
            and b.operation in (operation, AclOperation.ALL)
            for b in applicable
        ):
            return False
        allowed = {operation, AclOperation.ALL} | IMPLIED_BY.get(operation, frozenset())
        return any(
            b.permission_type == AclPermissionType.ALLOW and b.operation in allowed
            for b in applicable
        )

    def authorize_any(
        self, principal: str, host: str, operation: AclOperation, resource_type: ResourceType
    ) -> bool:
        """Whether any resource of the type allows the operation (Kafka's
        authorizeByResourceType, used for idempotent producers)."""
        if not self._settings.enabled or principal in self._settings.super_users:
            return True
        allowed = {operation, AclOperation.ALL}
        applicable = [
            b
            for b in self._bindings()
            if b.resource_type == resource_type
            and b.principal in (principal, WILDCARD_PRINCIPAL)
            and b.host in (host, WILDCARD)
        ]
        denied_everywhere = any(
            b.permission_type == AclPermissionType.DENY
            and b.operation in allowed
            and b.resource_name == WILDCARD
            for b in applicable
        )
        return not denied_everywhere and any(
            b.permission_type == AclPermissionType.ALLOW and b.operation in allowed
            for b in applicable
        )
