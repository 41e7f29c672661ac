"""`create_app(settings)`: the control plane's ASGI application.

Building the app does no I/O, so importing it (the OpenAPI snapshot, tests) is cheap. Starting
it does the work: the database schema must be at this version's revision (or is migrated to
it when `settings.migrate_on_start`), the admin token is read or generated, and the cluster
reconciler starts. Stopping the app stops the reconciler but not the clusters: brokers keep
serving their clients, and the next start re-adopts them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from strom.controlplane.api.idempotency import install_replay_handler
from strom.controlplane.api.routes import ROUTERS
from strom.controlplane.core.config import Settings
from strom.controlplane.core.errors import ProblemDetail, install_problem_handlers
from strom.controlplane.core.metrics import MetricsMiddleware
from strom.controlplane.core.request_limits import RequestSizeLimitMiddleware
from strom.controlplane.core.runtime import Runtime
from strom.controlplane.kafka_admin import KafkaAdminFactory
from strom.controlplane.migrations.runner import prepare_database
from strom.controlplane.openapi import install_openapi
from strom.controlplane.provisioning.base import Provisioner

API_VERSION = "v1"
_log = logging.getLogger("strom.controlplane")

_DESCRIPTION = """\
The multi-tenant front door of Strom: tenants, service accounts, API keys, clusters, topics,
ACL bindings, operations, audit events.

* Authenticate with `Authorization: Bearer <token>`: an API key (`<key-id>.<secret>`) or the
  platform admin token.
* Every object is `{id, kind, metadata, spec, status}`; lists are `{data, metadata{next,
  total_size}}`, paged with `page_size` and `page_token`.
* Every mutation takes `dry_run=true`; every POST takes an `Idempotency-Key` header.
* Long-running changes (creating or deleting a cluster) answer `202 Accepted` with an
  operation to poll at `/api/v1/operations/{operation_id}`.
* Every error is an RFC 9457 problem detail (`application/problem+json`) with a `code`.
"""


def create_app(
    settings: Settings | None = None,
    *,
    provisioner: Provisioner | None = None,
    kafka_admin_factory: KafkaAdminFactory | None = None,
) -> FastAPI:
    """The control-plane app for `settings` (default: from `STROM_*` environment variables).

    `provisioner` and `kafka_admin_factory` replace the configured backend and the
    confluent-kafka admin client (tests pass in-memory ones).
    """
    runtime = Runtime.from_settings(
        settings or Settings(), provisioner=provisioner, kafka_admin_factory=kafka_admin_factory
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            await run_in_threadpool(prepare_database, runtime.settings, runtime.engine)
            await run_in_threadpool(runtime.start)
            if runtime.settings.admin_token is None:
                _log.info("admin token in %s", runtime.settings.admin_token_path)
            await runtime.reconciler.start()
            yield
        finally:
            await runtime.reconciler.stop()
            runtime.stop()

    app = FastAPI(
        title="Strom control plane",
        version=API_VERSION,
        description=_DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=lambda route: route.name,
        responses={"default": {"model": ProblemDetail, "description": "A problem detail."}},
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    install_openapi(app)
    install_replay_handler(app)
    app.add_middleware(RequestSizeLimitMiddleware, max_bytes=runtime.settings.max_request_bytes)
    app.add_middleware(MetricsMiddleware, metrics=runtime.metrics)
    for router in ROUTERS:
        app.include_router(router)
    return app
