"""One APIRouter per resource; `ROUTERS` is the order they are mounted (and documented) in."""

from fastapi import APIRouter

from strom.controlplane.api.routes import (
    acls,
    api_keys,
    audit_events,
    clusters,
    consumer_groups,
    health,
    me,
    operations,
    service_accounts,
    tenants,
    topics,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    me.router,
    tenants.router,
    service_accounts.router,
    api_keys.router,
    clusters.router,
    operations.router,
    topics.router,
    acls.router,
    consumer_groups.router,
    audit_events.router,
)
