"""What every resource shares: the `{id, kind, metadata, spec, status}` shape and its columns.

Tables (`...Record`) store flat columns; the API shows each row as a resource shaped like a
Kubernetes object, so every kind reads the same way in JSON, in the CLI and in docs.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlmodel
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import JSON, DateTime, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlmodel import SQLModel

# Named constraints let Alembic's batch mode (SQLite) alter them, and keep names stable
# across SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MAX_LABELS = 64
_LABEL_KEY = re.compile(r"^[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?$")
_LABEL_VALUE_MAX = 256


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC) if dialect.name != "sqlite" else _naive_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _naive_utc(value: datetime) -> datetime:
    # SQLite stores datetimes as text and compares them as text: one zone, no offset suffix.
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _check_labels(labels: dict[str, str]) -> dict[str, str]:
    if len(labels) > MAX_LABELS:
        raise ValueError(f"at most {MAX_LABELS} labels")
    for key, value in labels.items():
        if not _LABEL_KEY.match(key):
            raise ValueError(
                f"label key {key!r} must be lowercase letters, digits, '.', '_', '/' or '-', "
                "start and end with a letter or digit, at most 63 characters"
            )
        if len(value) > _LABEL_VALUE_MAX:
            raise ValueError(f"label {key!r} is longer than {_LABEL_VALUE_MAX} characters")
    return labels


Labels = Annotated[dict[str, str], AfterValidator(_check_labels)]


class ApiModel(BaseModel):
    """Base of every API schema: unknown fields are rejected, so a typo or an attempt to set
    an immutable field (a tenant's name in a PATCH) answers 422 instead of being ignored."""

    model_config = ConfigDict(extra="forbid")


class RecordBase(SQLModel):
    """Columns every table has: id, labels, creation and update time."""

    id: str = sqlmodel.Field(primary_key=True, max_length=32)
    labels: dict[str, str] = sqlmodel.Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = sqlmodel.Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    updated_at: datetime = sqlmodel.Field(default_factory=utcnow, sa_type=UTCDateTime)

    def __init__(self, **data: Any) -> None:
        super().__init__(**data)
        if "updated_at" not in data:
            self.updated_at = self.created_at  # a new object was last changed when created

    def touch(self) -> None:
        """Mark the row changed now."""
        self.updated_at = utcnow()


class ObjectMetadata(ApiModel):
    """Bookkeeping every resource carries; only `labels` is set by clients."""

    created_at: datetime
    updated_at: datetime
    labels: dict[str, str] = Field(default_factory=dict)
    tenant_id: str | None = Field(
        default=None, description="The tenant owning this object (absent on tenants)."
    )

    @classmethod
    def of(cls, record: RecordBase, tenant_id: str | None = None) -> ObjectMetadata:
        return cls(
            created_at=record.created_at,
            updated_at=record.updated_at,
            labels=dict(record.labels),
            tenant_id=tenant_id,
        )


class MetadataInput(ApiModel):
    """The client-writable part of metadata in create and update requests."""

    labels: Labels = Field(default_factory=dict)

    def apply_to(self, record: RecordBase) -> None:
        """Replace the record's labels when the request set them (a PATCH may omit them)."""
        if "labels" in self.model_fields_set:
            record.labels = dict(self.labels)


class ListMetadata(ApiModel):
    """Paging facts of a list: where the next page is and how many objects match in all."""

    next: str | None = Field(
        default=None, description="URL of the next page; absent on the last page."
    )
    total_size: int = Field(description="Objects matching the query across all pages.")
