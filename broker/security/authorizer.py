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
    PatternType,
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
        """Whether some resource of the type allows the operation: Kafka's default
        authorizeByResourceType, used for idempotent producers. An ALLOW counts unless a
        DENY on the same literal name, or on a prefix of its name, dominates it."""
        # Kafka first authorizes a made-up name, so super users and allow.everyone pass.
        if self.authorize(principal, host, operation, resource_type, _ANY_RESOURCE_PROBE):
            return True
        allowed = {operation, AclOperation.ALL}
        denied_literals: set[str] = set()
        denied_prefixes: set[str] = set()
        allows: list[AclBinding] = []
        for b in self._bindings():
            if not (
                b.resource_type == resource_type
                and b.principal in (principal, WILDCARD_PRINCIPAL)
                and b.host in (host, WILDCARD)
                and b.operation in allowed
            ):
                continue
            if b.permission_type == AclPermissionType.ALLOW:
                allows.append(b)
            elif b.pattern_type == PatternType.PREFIXED:
                denied_prefixes.add(b.resource_name)
            elif b.resource_name == WILDCARD:
                return False
            else:
                denied_literals.add(b.resource_name)
        if any(
            b.pattern_type == PatternType.LITERAL and b.resource_name == WILDCARD for b in allows
        ):
            return True
        return any(
            not (b.pattern_type == PatternType.LITERAL and b.resource_name in denied_literals)
            and not any(b.resource_name.startswith(prefix) for prefix in denied_prefixes)
            for b in allows
        )


_ANY_RESOURCE_PROBE = "hardcode"
