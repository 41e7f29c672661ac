"""The records of the cluster metadata log, named after Kafka's KRaft metadata records.

Each record is the value of one record in a `__cluster_metadata` batch, encoded as JSON
(`{"type": ..., "data": {...}}`) so the log stays readable with ordinary tools. Replaying
the records in order rebuilds the MetadataImage.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class TopicRecord:
    type_name: ClassVar[str] = "TopicRecord"
    name: str
    topic_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class PartitionRecord:
    type_name: ClassVar[str] = "PartitionRecord"
    topic_id: uuid.UUID
    partition_id: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]
    leader: int
    leader_epoch: int
    partition_epoch: int
    # A reassignment in progress (Kafka's addingReplicas/removingReplicas): `replicas` is
    # the target followed by the replicas being removed; empty when none is pending.
    adding_replicas: tuple[int, ...] = ()
    removing_replicas: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RemoveTopicRecord:
    type_name: ClassVar[str] = "RemoveTopicRecord"
    topic_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ConfigRecord:
    """Set (value) or remove (value None) one config of a topic or broker resource."""

    type_name: ClassVar[str] = "ConfigRecord"
    resource_type: str  # "topic" or "broker"
    resource_name: str
    name: str
    value: str | None


@dataclass(frozen=True, slots=True)
class ProducerIdsRecord:
    """The next producer id block starts at `next_producer_id`."""

    type_name: ClassVar[str] = "ProducerIdsRecord"
    broker_id: int
    next_producer_id: int


@dataclass(frozen=True, slots=True)
class UserScramCredentialRecord:
    """A SCRAM credential: salted and iterated (RFC 5802), never the password. Byte
    fields are hex so the log stays readable JSON."""

    type_name: ClassVar[str] = "UserScramCredentialRecord"
    name: str
    mechanism: str
    salt: str
    stored_key: str
    server_key: str
    iterations: int


@dataclass(frozen=True, slots=True)
class RemoveUserScramCredentialRecord:
    type_name: ClassVar[str] = "RemoveUserScramCredentialRecord"
    name: str
    mechanism: str


@dataclass(frozen=True, slots=True)
class AccessControlEntryRecord:
    """One ACL binding; resource, pattern, operation and permission use Kafka's ids."""

    type_name: ClassVar[str] = "AccessControlEntryRecord"
    id: str
    resource_type: int
    resource_name: str
    pattern_type: int
    principal: str
    host: str
    operation: int
    permission_type: int


@dataclass(frozen=True, slots=True)
class RemoveAccessControlEntryRecord:
    type_name: ClassVar[str] = "RemoveAccessControlEntryRecord"
    id: str


@dataclass(frozen=True, slots=True)
class ClientQuotaRecord:
    """Set (value) or remove (value None) one quota of a client entity: entity is a tuple
    of (type, name) pairs, name None standing for the `<default>` entity."""

    type_name: ClassVar[str] = "ClientQuotaRecord"
    entity: tuple[tuple[str, str | None], ...]
    key: str
    value: float | None


@dataclass(frozen=True, slots=True)
class RegisterBrokerRecord:
    """A broker process registered: its epoch is the offset of this record. Endpoints are
    (listener name, host, port, security protocol)."""

    type_name: ClassVar[str] = "RegisterBrokerRecord"
    broker_id: int
    incarnation_id: str
    broker_epoch: int
    endpoints: tuple[tuple[str, str, int, str], ...]
    rack: str | None
    fenced: bool = True
    in_controlled_shutdown: bool = False


@dataclass(frozen=True, slots=True)
class UnregisterBrokerRecord:
    type_name: ClassVar[str] = "UnregisterBrokerRecord"
    broker_id: int
    broker_epoch: int


@dataclass(frozen=True, slots=True)
class FenceBrokerRecord:
    type_name: ClassVar[str] = "FenceBrokerRecord"
    broker_id: int
    broker_epoch: int


@dataclass(frozen=True, slots=True)
class UnfenceBrokerRecord:
    type_name: ClassVar[str] = "UnfenceBrokerRecord"
    broker_id: int
    broker_epoch: int


@dataclass(frozen=True, slots=True)
class BrokerRegistrationChangeRecord:
    """Change a registration's fencing or controlled-shutdown state (None: unchanged)."""

    type_name: ClassVar[str] = "BrokerRegistrationChangeRecord"
    broker_id: int
    broker_epoch: int
    fenced: bool | None = None
    in_controlled_shutdown: bool | None = None


MetadataRecord = (
    TopicRecord
    | PartitionRecord
    | RemoveTopicRecord
    | ConfigRecord
    | ProducerIdsRecord
    | UserScramCredentialRecord
    | RemoveUserScramCredentialRecord
    | AccessControlEntryRecord
    | RemoveAccessControlEntryRecord
    | ClientQuotaRecord
    | RegisterBrokerRecord
    | UnregisterBrokerRecord
    | FenceBrokerRecord
    | UnfenceBrokerRecord
    | BrokerRegistrationChangeRecord
)

_TYPES: dict[str, type[Any]] = {
    cls.type_name: cls
    for cls in (
        TopicRecord,
        PartitionRecord,
        RemoveTopicRecord,
        ConfigRecord,
        ProducerIdsRecord,
        UserScramCredentialRecord,
        RemoveUserScramCredentialRecord,
        AccessControlEntryRecord,
        RemoveAccessControlEntryRecord,
        ClientQuotaRecord,
        RegisterBrokerRecord,
        UnregisterBrokerRecord,
        FenceBrokerRecord,
        UnfenceBrokerRecord,
        BrokerRegistrationChangeRecord,
    )
}


class MetadataRecordError(ValueError):
    """A metadata record that cannot be decoded: the metadata log is damaged."""


def is_metadata_record(raw: bytes) -> bool:
    """Metadata records are JSON objects; the quorum's own entries (leader changes) in
    the same log are not."""
    return raw[:1] == b"{"


def encode_record(record: MetadataRecord) -> bytes:
    data = asdict(record)
    for key, value in data.items():
        if isinstance(value, uuid.UUID):
            data[key] = str(value)
        elif isinstance(value, tuple):
            data[key] = list(value)
    return json.dumps({"type": record.type_name, "data": data}, sort_keys=True).encode()


def decode_record(raw: bytes) -> MetadataRecord:
    try:
        envelope = json.loads(raw)
        cls = _TYPES[envelope["type"]]
        data = envelope["data"]
        values = {}
        for field in fields(cls):
            if field.name not in data and field.default is not MISSING:
                continue  # written before the field existed: its default applies
            value = data[field.name]
            if field.name == "topic_id":
                value = uuid.UUID(value)
            values[field.name] = _tuples(value)
        record: MetadataRecord = cls(**values)
        return record
    except (KeyError, TypeError, ValueError) as error:
        raise MetadataRecordError(f"undecodable metadata record: {error}") from error


def _tuples(value: Any) -> Any:
    """JSON arrays back to the (nested) tuples the records hold."""
    if isinstance(value, list):
        return tuple(_tuples(item) for item in value)
    return value
