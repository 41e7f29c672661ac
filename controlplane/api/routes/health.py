"""Probes and metrics: `/healthz` (the process answers), `/readyz` (it can serve), `/metrics`."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from strom.controlplane.api.deps import RuntimeDep
from strom.controlplane.core.errors import Unavailable
from strom.controlplane.migrations.runner import DatabaseNotMigrated, check_migrated

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


@router.get("/healthz")
def healthz() -> Health:
    """Liveness: answers while the process serves HTTP; checks nothing else on purpose."""
    return Health()


@router.get("/readyz", responses={503: {"description": "The database is unusable."}})
async def readyz(runtime: RuntimeDep) -> Health:
    """Readiness: the database answers and its schema is at this version's revision."""
    try:
        await run_in_threadpool(check_migrated, runtime.engine)
    except DatabaseNotMigrated as error:
        raise Unavailable(str(error), code="database_not_migrated") from error
    except SQLAlchemyError as error:
        raise Unavailable(
            f"The database does not answer: {type(error).__name__}.", code="database_unavailable"
        ) from error
    return Health()


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus text exposition of this process's metrics."""
    return Response(runtime.metrics.exposition(), media_type=runtime.metrics.content_type)
