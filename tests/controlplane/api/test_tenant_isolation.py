"""Tenant isolation, checked against the whole OpenAPI document rather than a list of routes.

Tenant B calls every operation on tenant A's objects, with A's tenant id and with its own in
the path. Every call that names an object answers 404, leaks none of A's data, and changes
nothing of A's. A new route with an id parameter this test does not know fails it, so new
routes join the check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.controlplane import ADMIN_HEADERS, Api, TenantCredentials

# A valid body for each operation that takes one, so the call reaches the tenant check
# rather than failing validation first.
SAMPLE_BODIES: dict[str, Any] = {
    "update_tenant": {"spec": {"display_name": "taken over"}},
    "create_service_account": {"spec": {"name": "intruder"}},
    "update_service_account": {"spec": {"description": "taken over"}},
    "create_api_key": {"spec": {"service_account_id": "{service_account_id}"}},
    "update_api_key": {"spec": {"description": "taken over"}},
    "rotate_api_key": {"grace_period_seconds": 0},
    "create_cluster": {"spec": {"name": "intruder"}},
    "update_cluster": {"metadata": {"labels": {"taken": "over"}}},
    "create_topic": {"spec": {"name": "intruder", "partitions": 1}},
    "update_topic": {"spec": {"configs": {"retention.ms": "1"}}},
    "create_acl_binding": {
        "spec": {
            "principal": "User:{tenant_id}.alpha-secret-app",
            "resource_type": "TOPIC",
            "resource_name": "*",
            "operation": "READ",
        }
    },
}
PARAMETER = re.compile(r"{(\w+)}")


@dataclass
class VictimTenant:
    credentials: TenantCredentials
    ids: dict[str, str]  # path parameter name → one of A's ids
    private: set[str]  # strings only A (and the admin) may see


@pytest.fixture
def victim(api: Api) -> VictimTenant:
    credentials = api.tenant_with_key("alpha-corp")
    tenant_id = credentials.tenant_id
    account = api.create_service_account(tenant_id, "alpha-secret-app", credentials.headers)
    key = api.create_api_key(tenant_id, account["id"], credentials.headers, description="alpha")
    cluster = api.ready_cluster(tenant_id, "alpha-cluster", credentials.headers)
    base = f"/api/v1/tenants/{tenant_id}/clusters/{cluster['id']}"
    topic = api.client.post(
        f"{base}/topics",
        json={"spec": {"name": "alpha-payments", "partitions": 2}},
        headers=credentials.headers,
    ).json()
    binding = api.client.post(
        f"{base}/acls",
        json={
            "spec": {
                "principal": account["status"]["principal"],
                "resource_type": "TOPIC",
                "resource_name": "alpha-payments",
                "operation": "WRITE",
            }
        },
        headers=credentials.headers,
    ).json()
    cluster_key = api.create_api_key(
        tenant_id, account["id"], credentials.headers, scope="cluster", cluster_id=cluster["id"]
    )
    operations = api.client.get(
        f"/api/v1/tenants/{tenant_id}/operations", headers=credentials.headers
    ).json()["data"]
    events = api.client.get(
        f"/api/v1/tenants/{tenant_id}/audit-events", headers=credentials.headers
    ).json()["data"]
    ids = {
        "tenant_id": tenant_id,
        "service_account_id": account["id"],
        "api_key_id": key["id"],
        "audit_event_id": events[0]["id"],
        "cluster_id": cluster["id"],
        "operation_id": operations[0]["id"],
        "topic_name": topic["id"],
        "acl_id": binding["id"],
        "group_id": "alpha-group",
    }
    private = {
        "alpha-corp",
        "alpha-secret-app",
        "alpha-cluster",
        account["status"]["principal"],
        credentials.api_key_id,
        key["secret"],
        cluster_key["id"],
        cluster_key["secret"],
        *cluster["status"]["bootstrap_servers"],
        *ids.values(),
    }
    return VictimTenant(credentials, ids, private)


def test_no_operation_reveals_or_changes_another_tenants_objects(
    api: Api, victim: VictimTenant
) -> None:
    attacker = api.tenant_with_key("beta")
    before = _snapshot(api, victim)
    checked = 0
    for method, path, operation in _operations(api):
        names = PARAMETER.findall(path)
        if not names:
            continue
        unknown = set(names) - set(victim.ids)
        assert not unknown, f"teach this test the id parameter(s) {unknown} of {path}"
        # With B's own tenant id in the path, only the other ids still name A's objects.
        tenant_ids = [victim.ids["tenant_id"]]
        if names != ["tenant_id"]:
            tenant_ids.append(attacker.tenant_id)
        for tenant_id in tenant_ids:
            values = {**victim.ids, "tenant_id": tenant_id}
            url = path.format(**values)
            response = api.client.request(
                method.upper(),
                url,
                json=_body(operation, values),
                headers=attacker.headers,
            )
            what = f"{method.upper()} {url} ({operation['operationId']})"
            assert response.status_code == 404, f"{what} answered {response.status_code}"
            assert response.json()["code"] == "not_found", what
            leaked = {text for text in victim.private if text in response.text and text not in url}
            assert not leaked, f"{what} leaked {leaked}"
            checked += 1
    assert checked >= 45
    assert _snapshot(api, victim) == before
    assert api.client.get("/api/v1/me", headers=victim.credentials.headers).status_code == 200


def test_routes_without_ids_show_another_tenant_nothing(api: Api, victim: VictimTenant) -> None:
    attacker = api.tenant_with_key("beta")
    for method, path, _operation in _operations(api):
        if PARAMETER.search(path) or method != "get":
            continue
        response = api.client.get(path, headers=attacker.headers)
        leaked = {text for text in victim.private if text in response.text}
        assert not leaked, f"GET {path} leaked {leaked}"


def _operations(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    document = api.client.get("/openapi.json").json()
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def _body(operation: dict[str, Any], values: dict[str, str]) -> Any:
    if "requestBody" not in operation:
        return None
    name = operation["operationId"]
    assert name in SAMPLE_BODIES, f"add a sample body for {name} to SAMPLE_BODIES"
    body = SAMPLE_BODIES[name]
    return _fill(body, values)


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    if isinstance(value, str):
        return value.format(**values)
    return value


def _snapshot(api: Api, victim: VictimTenant) -> list[Any]:
    """Everything of A's as the admin sees it (audit events excluded: B's attempts are not
    A's events, which the audit tests check)."""
    tenant_id = victim.ids["tenant_id"]
    cluster = f"/api/v1/tenants/{tenant_id}/clusters/{victim.ids['cluster_id']}"
    paths = [
        f"/api/v1/tenants/{tenant_id}",
        f"/api/v1/tenants/{tenant_id}/limits",
        f"/api/v1/tenants/{tenant_id}/service-accounts",
        f"/api/v1/tenants/{tenant_id}/api-keys",
        f"/api/v1/tenants/{tenant_id}/clusters",
        f"/api/v1/tenants/{tenant_id}/operations",
        f"{cluster}/topics",
        f"{cluster}/acls",
    ]
    return [api.client.get(path, headers=ADMIN_HEADERS).json() for path in paths]
