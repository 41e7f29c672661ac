"""SQLModel tables and API schemas, one module per resource family.

Importing this package registers every table on `SQLModel.metadata`, which Alembic compares
against the migrations.
"""

from strom.controlplane.models.api_keys import ApiKeyRecord
from strom.controlplane.models.audit import AuditEventRecord
from strom.controlplane.models.clusters import ClusterRecord
from strom.controlplane.models.idempotency import IdempotencyRecord
from strom.controlplane.models.operations import OperationRecord
from strom.controlplane.models.service_accounts import ServiceAccountRecord
from strom.controlplane.models.tenants import TenantRecord

__all__ = [
    "ApiKeyRecord",
    "AuditEventRecord",
    "ClusterRecord",
    "IdempotencyRecord",
    "OperationRecord",
    "ServiceAccountRecord",
    "TenantRecord",
]
