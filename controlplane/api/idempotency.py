"""`Idempotency-Key` on every POST: a retried request gets the first answer, not a second object.

Same key + same request → the stored answer (header `Idempotent-Replayed: true`); same key +
another request → 422 `idempotency_key_reused`; same key while the first request still runs →
409 `idempotency_key_in_use`. Keys belong to the caller's principal and live for a day. A request
that fails with an error releases its key, so fixing the cause and retrying works.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import FastAPI, Header, Request, Response
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from strom.controlplane.api.deps import PrincipalDep, RuntimeDep
from strom.controlplane.core.errors import Conflict, Unprocessable
from strom.controlplane.models.base import utcnow
from strom.controlplane.models.idempotency import IdempotencyRecord

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL = timedelta(hours=24)
# A claim this old without an answer belongs to a process that died mid-request.
ABANDONED_AFTER = timedelta(minutes=5)


class IdempotentReplay(Exception):
    """Raised to answer a retried request with the stored answer instead of running it."""

    def __init__(self, status_code: int, body: str) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.body = body


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """This request holds the key; the route class completes or releases it."""

    record_id: int


async def idempotency_guard(
    request: Request,
    principal: PrincipalDep,
    runtime: RuntimeDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            min_length=1,
            max_length=255,
            description="Retrying with the same key returns the first answer; "
            "reusing it for another request answers 422.",
        ),
    ] = None,
) -> None:
    """Claim the key before the route runs, or replay / refuse as the key's state says."""
    if idempotency_key is None:
        return
    fingerprint = _fingerprint(request, await request.body())
    claim = await run_in_threadpool(
        _claim, runtime.engine, principal.name, idempotency_key, fingerprint
    )
    request.state.idempotency = claim


def complete(engine: Engine, claim: IdempotencyClaim, status_code: int, body: str) -> None:
    """Store the answer for replays."""
    with Session(engine) as session:
        record = session.get(IdempotencyRecord, claim.record_id)
        if record is not None:
            record.status_code = status_code
            record.response_body = body
            session.add(record)
            session.commit()


def release(engine: Engine, claim: IdempotencyClaim) -> None:
    """Forget the key: the request failed, so a retry must run again."""
    with Session(engine) as session:
        record = session.get(IdempotencyRecord, claim.record_id)
        if record is not None:
            session.delete(record)
            session.commit()


def install_replay_handler(app: FastAPI) -> None:
    app.add_exception_handler(IdempotentReplay, _replay)  # type: ignore[arg-type]


async def _replay(_request: Request, exc: IdempotentReplay) -> Response:
    return Response(
        content=exc.body,
        status_code=exc.status_code,
        media_type="application/json",
        headers={REPLAYED_HEADER: "true"},
    )


def _claim(engine: Engine, principal: str, key: str, fingerprint: str) -> IdempotencyClaim:
    now = utcnow()
    with Session(engine) as session:
        record = session.exec(
            select(IdempotencyRecord).where(
                IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
            )
        ).first()
        if record is not None and (
            record.expires_at <= now
            or (record.status_code is None and record.created_at + ABANDONED_AFTER <= now)
        ):
            session.delete(record)
            session.commit()
            record = None
        if record is not None:
            if record.status_code is None or record.response_body is None:
                raise Conflict(
                    f"A request with {HEADER} {key!r} is still in progress; retry later.",
                    code="idempotency_key_in_use",
                )
            if record.fingerprint != fingerprint:
                raise Unprocessable(
                    f"{HEADER} {key!r} was already used for a different request.",
                    code="idempotency_key_reused",
                )
            raise IdempotentReplay(record.status_code, record.response_body)
        record = IdempotencyRecord(
            principal=principal, key=key, fingerprint=fingerprint, expires_at=now + TTL
        )
        session.add(record)
        try:
            session.commit()
        except IntegrityError:
            raise Conflict(
                f"A request with {HEADER} {key!r} is still in progress; retry later.",
                code="idempotency_key_in_use",
            ) from None
        assert record.id is not None
        return IdempotencyClaim(record.id)


def _fingerprint(request: Request, body: bytes) -> str:
    """SHA-256 of method, path, query and body; JSON bodies compare by content, not spacing."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    query = "&".join(sorted(f"{k}={v}" for k, v in request.query_params.multi_items()))
    digest = hashlib.sha256(f"{request.method} {request.url.path}?{query}\n".encode())
    digest.update(canonical)
    return digest.hexdigest()
