"""Validated metadata changes for the security APIs: SCRAM credentials
(AlterUserScramCredentials) and client quotas (AlterClientQuotas)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from strom.broker.controller.errors import InvalidRequestError
from strom.broker.metadata.image import MetadataImage
from strom.broker.metadata.records import (
    MetadataRecord,
    RemoveUserScramCredentialRecord,
    UserScramCredentialRecord,
)
from strom.broker.security.errors import (
    DuplicateResourceError,
    ResourceNotFoundError,
    UnacceptableCredentialError,
    UnsupportedSaslMechanismError,
)
from strom.broker.security.quotas import (
    CLIENT_ID,
    CLIENT_KEYS,
    CONNECTION_CREATION_RATE,
    IP,
    USER,
    Entity,
    canonical_entity,
)
from strom.broker.security.scram import (
    MAX_ITERATIONS,
    MECHANISMS,
    MIN_ITERATIONS,
    credential_from_salted_password,
)


@dataclass(frozen=True, slots=True)
class ScramUpsertion:
    name: str
    mechanism: str
    iterations: int
    salt: bytes
    salted_password: bytes


def scram_changes(
    image: MetadataImage,
    user: str,
    upsertions: Sequence[ScramUpsertion],
    deletions: Sequence[tuple[str, str]],
    seen: set[tuple[str, str]],
) -> list[MetadataRecord]:
    if not user:
        raise UnacceptableCredentialError("Username must not be empty")
    changes: list[MetadataRecord] = []
    for name, mechanism in deletions:
        if name != user:
            continue
        _check_mechanism(user, mechanism, seen)
        if (user, mechanism) not in image.scram_credentials:
            raise ResourceNotFoundError(
                f"Attempt to delete a user credential that does not exist: {user} {mechanism}"
            )
        changes.append(RemoveUserScramCredentialRecord(user, mechanism))
    for upsertion in upsertions:
        if upsertion.name != user:
            continue
        _check_mechanism(user, upsertion.mechanism, seen)
        if not MIN_ITERATIONS <= upsertion.iterations <= MAX_ITERATIONS:
            raise UnacceptableCredentialError(
                f"Iterations {upsertion.iterations} not in [{MIN_ITERATIONS}, "
                f"{MAX_ITERATIONS}] for {upsertion.mechanism}"
            )
        if not upsertion.salt or not upsertion.salted_password:
            raise UnacceptableCredentialError("Salt and salted password must not be empty")
        credential = credential_from_salted_password(
            upsertion.mechanism, upsertion.salted_password, upsertion.salt, upsertion.iterations
        )
        changes.append(
            UserScramCredentialRecord(
                name=user,
                mechanism=upsertion.mechanism,
                salt=credential.salt.hex(),
                stored_key=credential.stored_key.hex(),
                server_key=credential.server_key.hex(),
                iterations=credential.iterations,
            )
        )
    return changes


def _check_mechanism(user: str, mechanism: str, seen: set[tuple[str, str]]) -> None:
    if mechanism not in MECHANISMS:
        raise UnsupportedSaslMechanismError(f"Unknown SCRAM mechanism {mechanism}")
    if (user, mechanism) in seen:
        raise DuplicateResourceError(
            f"A user credential cannot be altered twice in the same request: {user}"
        )
    seen.add((user, mechanism))


def validate_quota_entity(entity: Entity) -> Entity:
    types = [entity_type for entity_type, _ in entity]
    if not types or len(set(types)) != len(types):
        raise InvalidRequestError("A quota entity names each entity type at most once")
    if any(t not in (USER, CLIENT_ID, IP) for t in types):
        raise InvalidRequestError(f"Unknown quota entity type in {types}")
    if IP in types and len(types) > 1:
        raise InvalidRequestError("An ip quota entity cannot be combined with other types")
    return canonical_entity(entity)


def validate_quota_op(entity: Entity, key: str, value: float, remove: bool) -> bool:
    allowed = (CONNECTION_CREATION_RATE,) if entity[0][0] == IP else CLIENT_KEYS
    if key not in allowed:
        raise InvalidRequestError(f"Invalid quota key {key} for entity {list(entity)}")
    if not remove and not value > 0:
        raise InvalidRequestError(f"Quota {key} must be positive, got {value}")
    return True
