"""Audit events: every mutation leaves one, successful or not, readable by its tenant."""

from __future__ import annotations

from typing import Any

from tests.support.controlplane import ADMIN_HEADERS, Api


def _events(api: Api, tenant_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = api.client.get(f"/api/v1/tenants/{tenant_id}/audit-events", headers=headers)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_every_mutation_is_recorded_with_actor_action_and_result(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    path = f"/api/v1/tenants/{tenant.tenant_id}/service-accounts"
    created = api.client.post(path, json={"spec": {"name": "app"}}, headers=tenant.headers)
    api.client.post(path, json={"spec": {"name": "app"}}, headers=tenant.headers)  # 409
    api.client.delete(f"{path}/{created.json()['id']}", headers=tenant.headers)
    events = _events(api, tenant.tenant_id, tenant.headers)
    actions = [(e["spec"]["actor"], e["spec"]["action"], e["status"]["result"]) for e in events]
    principal = f"User:{tenant.tenant_id}.acme-deployer"
    assert actions == [
        ("admin", "create_tenant", "success"),
        ("admin", "create_service_account", "success"),
        ("admin", "create_api_key", "success"),
        (principal, "create_service_account", "success"),
        (principal, "create_service_account", "failure"),
        (principal, "delete_service_account", "success"),
    ]
    failure = events[4]
    assert failure["status"] == {
        "result": "failure",
        "status_code": 409,
        "code": "service_account_name_taken",
    }
    assert events[3]["spec"]["resource_id"] == created.json()["id"]
    assert events[5]["spec"]["resource_id"] == created.json()["id"]
    assert all(e["id"].startswith("aud-") and e["kind"] == "AuditEvent" for e in events)


def test_reads_are_not_recorded_and_dry_runs_are_flagged(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    api.client.get(f"/api/v1/tenants/{tenant.tenant_id}", headers=tenant.headers)
    api.client.post(
        f"/api/v1/tenants/{tenant.tenant_id}/service-accounts",
        params={"dry_run": "true"},
        json={"spec": {"name": "trial"}},
        headers=tenant.headers,
    )
    events = _events(api, tenant.tenant_id, tenant.headers)
    assert len(events) == 4
    assert events[-1]["spec"]["dry_run"] is True
    assert events[-1]["spec"]["action"] == "create_service_account"


def test_validation_failures_are_recorded(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    api.client.post(
        f"/api/v1/tenants/{tenant.tenant_id}/service-accounts",
        json={"spec": {"name": "BAD NAME"}},
        headers=tenant.headers,
    )
    last = _events(api, tenant.tenant_id, tenant.headers)[-1]
    assert last["status"] == {"result": "failure", "status_code": 422, "code": "validation_failed"}


def test_an_attempt_on_another_tenant_goes_to_the_callers_trail_only(api: Api) -> None:
    victim = api.tenant_with_key("victim")
    prober = api.tenant_with_key("prober")
    before = _events(api, victim.tenant_id, victim.headers)
    api.client.delete(
        f"/api/v1/tenants/{victim.tenant_id}/service-accounts/{victim.service_account_id}",
        headers=prober.headers,
    )
    assert _events(api, victim.tenant_id, victim.headers) == before
    last = _events(api, prober.tenant_id, prober.headers)[-1]
    assert last["spec"]["action"] == "delete_service_account"
    assert last["status"]["status_code"] == 404


def test_one_event_is_readable_by_id_within_its_tenant(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    other = api.tenant_with_key("other")
    event = _events(api, tenant.tenant_id, tenant.headers)[0]
    path = f"/api/v1/tenants/{tenant.tenant_id}/audit-events/{event['id']}"
    assert api.client.get(path, headers=tenant.headers).json() == event
    elsewhere = f"/api/v1/tenants/{other.tenant_id}/audit-events/{event['id']}"
    assert api.client.get(elsewhere, headers=other.headers).status_code == 404


def test_the_admin_reads_every_event_including_unauthenticated_attempts(api: Api) -> None:
    api.create_tenant("acme")
    api.client.post("/api/v1/tenants", json={"spec": {"name": "x"}})  # no token
    response = api.client.get("/api/v1/audit-events", headers=ADMIN_HEADERS).json()
    last = response["data"][-1]
    assert last["spec"]["actor"] == "anonymous"
    assert last["status"]["status_code"] == 401
    assert last["metadata"]["tenant_id"] is None
