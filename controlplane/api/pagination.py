"""Cursor pagination: `?page_size=&page_token=` → `{data, metadata{next, total_size}}`.

Lists are ordered by (created_at, id) and a page token names the last row served, so pages
stay consistent while rows are added (an offset would skip or repeat rows). Lists read from a
cluster (topics, ACL bindings) are ordered by a name-like key and the token names the last key
served. The token is opaque to clients; `metadata.next` is the URL of the next page with the
token filled in.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Query, Request
from sqlalchemy import and_, func, or_
from sqlmodel import Session, SQLModel, select
from sqlmodel.sql.expression import SelectOfScalar

from strom.controlplane.core.errors import BadRequest
from strom.controlplane.models.base import ListMetadata

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

Row = TypeVar("Row", bound=SQLModel)
Item = TypeVar("Item")
_KEY_TOKEN = "k"


@dataclass(frozen=True, slots=True)
class PageRequest:
    size: int
    token: str | None = None

    @property
    def after(self) -> tuple[datetime, str] | None:
        """The (created_at, id) of the last row served, for SQL lists."""
        return _decode(self.token) if self.token else None

    @property
    def after_key(self) -> str | None:
        """The sort key of the last item served, for lists read from a cluster."""
        return _decode_key(self.token) if self.token else None


def page_request(
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="Objects per page.")
    ] = DEFAULT_PAGE_SIZE,
    page_token: Annotated[
        str | None,
        Query(max_length=500, description="From `metadata.next` of the previous page."),
    ] = None,
) -> PageRequest:
    return PageRequest(page_size, page_token)


def paginate(
    session: Session,
    statement: SelectOfScalar[Row],
    model: type[Row],
    page: PageRequest,
    request: Request,
) -> tuple[Sequence[Row], ListMetadata]:
    """One page of `statement`'s rows and the list metadata that leads to the next."""
    created_at: Any = model.created_at  # type: ignore[attr-defined]
    row_id: Any = model.id  # type: ignore[attr-defined]
    total = session.exec(select(func.count()).select_from(statement.subquery())).one()
    after = page.after
    if after is not None:
        after_time, after_id = after
        statement = statement.where(
            or_(created_at > after_time, and_(created_at == after_time, row_id > after_id))
        )
    rows = session.exec(statement.order_by(created_at, row_id).limit(page.size + 1)).all()
    next_url = None
    if len(rows) > page.size:
        rows = rows[: page.size]
        last: Any = rows[-1]
        url = request.url.include_query_params(page_token=_encode(last.created_at, last.id))
        next_url = f"{url.path}?{url.query}"
    return rows, ListMetadata(next=next_url, total_size=total)


def paginate_sorted(
    items: Sequence[Item], key: Callable[[Item], str], page: PageRequest, request: Request
) -> tuple[list[Item], ListMetadata]:
    """One page of `items` in `key` order (for lists that do not come from SQL)."""
    ordered = sorted(items, key=key)
    after = page.after_key
    remaining = [item for item in ordered if after is None or key(item) > after]
    rows = remaining[: page.size]
    next_url = None
    if len(remaining) > page.size:
        raw = json.dumps([_KEY_TOKEN, key(rows[-1])]).encode()
        token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        url = request.url.include_query_params(page_token=token)
        next_url = f"{url.path}?{url.query}"
    return rows, ListMetadata(next=next_url, total_size=len(ordered))


def _encode(created_at: datetime, row_id: str) -> str:
    raw = json.dumps([created_at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        created_at, row_id = json.loads(raw)
        return datetime.fromisoformat(created_at), str(row_id)
    except (binascii.Error, ValueError, TypeError) as error:
        raise BadRequest(
            "page_token is not a token from metadata.next.", code="invalid_page_token"
        ) from error


def _decode_key(token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        marker, key = json.loads(raw)
        if marker != _KEY_TOKEN:
            raise ValueError(marker)
        return str(key)
    except (binascii.Error, ValueError, TypeError) as error:
        raise BadRequest(
            "page_token is not a token from metadata.next.", code="invalid_page_token"
        ) from error
