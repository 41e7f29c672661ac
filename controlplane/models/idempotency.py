"""Stored answers to POSTs that carried an `Idempotency-Key` header.

A row is claimed (no answer yet) before the request runs and completed with the answer after,
so a retry replays the answer and a concurrent duplicate sees the claim. Rows expire after a
day. Answers are stored as sent, including a new API key's secret, so that a retried create
still hands the caller its key; the expiry bounds how long such a secret sits in this table.
"""

from __future__ import annotations

from datetime import datetime

import sqlmodel
from sqlalchemy import Text

from strom.controlplane.models.base import UTCDateTime, utcnow


class IdempotencyRecord(sqlmodel.SQLModel, table=True):
    __tablename__ = "idempotency_keys"
    __table_args__ = (sqlmodel.UniqueConstraint("principal", "key"),)

    id: int | None = sqlmodel.Field(default=None, primary_key=True)
    principal: str = sqlmodel.Field(max_length=200, description="The caller the key belongs to.")
    key: str = sqlmodel.Field(max_length=255)
    fingerprint: str = sqlmodel.Field(max_length=64, description="SHA-256 of the request.")
    status_code: int | None = None
    response_body: str | None = sqlmodel.Field(default=None, sa_type=Text)
    created_at: datetime = sqlmodel.Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = sqlmodel.Field(sa_type=UTCDateTime, index=True)
