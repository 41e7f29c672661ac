"""ACL bindings to and from their cluster metadata records."""

from __future__ import annotations

from strom.broker.metadata.image import MetadataImage
from strom.broker.metadata.records import AccessControlEntryRecord
from strom.broker.security.acls import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourceType,
)


def acl_bindings(image: MetadataImage) -> list[AclBinding]:
    return [binding_of(record) for record in image.acls.values()]


def binding_of(record: AccessControlEntryRecord) -> AclBinding:
    return AclBinding(
        resource_type=ResourceType(record.resource_type),
        resource_name=record.resource_name,
        pattern_type=PatternType(record.pattern_type),
        principal=record.principal,
        host=record.host,
        operation=AclOperation(record.operation),
        permission_type=AclPermissionType(record.permission_type),
    )


def record_of(acl_id: str, binding: AclBinding) -> AccessControlEntryRecord:
    return AccessControlEntryRecord(
        id=acl_id,
        resource_type=int(binding.resource_type),
        resource_name=binding.resource_name,
        pattern_type=int(binding.pattern_type),
        principal=binding.principal,
        host=binding.host,
        operation=int(binding.operation),
        permission_type=int(binding.permission_type),
    )
