"""One APIRouter per resource; `ROUTERS` is the order they are mounted (and documented) in."""

from fastapi import APIRouter

from strom.controlplane.api.routes import (
    api_keys,
    audit_events,
    health,
    me,
    service_accounts,
    tenants,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    me.router,
    tenants.router,
    service_accounts.router,
    api_keys.router,
    audit_events.router,
)
