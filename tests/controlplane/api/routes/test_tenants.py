"""Tenants: created and managed by the platform admin; a tenant reads only itself."""

from __future__ import annotations

from tests.support.controlplane import ADMIN_HEADERS, Api

GIB = 1024**3


def test_admin_creates_a_tenant_shaped_like_every_resource(api: Api) -> None:
    response = api.client.post(
        "/api/v1/tenants",
        json={
            "metadata": {"labels": {"team": "payments"}},
            "spec": {"name": "acme", "display_name": "Acme Corp", "limits": {"max_brokers": 6}},
        },
        headers=ADMIN_HEADERS,
    )
    assert response.status_code == 201
    tenant = response.json()
    assert set(tenant) == {"id", "kind", "metadata", "spec", "status"}
    assert tenant["id"].startswith("ten-") and tenant["kind"] == "Tenant"
    assert tenant["metadata"]["labels"] == {"team": "payments"}
    assert {"created_at", "updated_at"} <= set(tenant["metadata"])
    assert tenant["spec"]["name"] == "acme" and tenant["spec"]["display_name"] == "Acme Corp"
    assert tenant["spec"]["limits"]["max_brokers"] == 6
    assert tenant["spec"]["limits"]["max_clusters"] == 1  # defaults fill the rest
    assert tenant["status"] == {"phase": "ACTIVE"}
    fetched = api.client.get(f"/api/v1/tenants/{tenant['id']}", headers=ADMIN_HEADERS).json()
    assert fetched == tenant


def test_tenant_names_are_unique(api: Api) -> None:
    api.create_tenant("acme")
    response = api.client.post(
        "/api/v1/tenants", json={"spec": {"name": "acme"}}, headers=ADMIN_HEADERS
    )
    assert response.status_code == 409
    assert response.json()["code"] == "tenant_name_taken"


def test_only_the_admin_creates_or_lists_tenants(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    create = api.client.post(
        "/api/v1/tenants", json={"spec": {"name": "b"}}, headers=tenant.headers
    )
    listing = api.client.get("/api/v1/tenants", headers=tenant.headers)
    assert create.status_code == listing.status_code == 403
    assert create.json()["code"] == "admin_required"


def test_a_tenant_reads_itself_but_may_not_change_itself(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    path = f"/api/v1/tenants/{tenant.tenant_id}"
    assert api.client.get(path, headers=tenant.headers).json()["spec"]["name"] == "acme"
    patch = api.client.patch(
        path, json={"spec": {"limits": {"max_clusters": 99}}}, headers=tenant.headers
    )
    assert patch.status_code == 403
    assert api.client.delete(path, headers=tenant.headers).status_code == 403


def test_patch_changes_only_what_it_names(api: Api) -> None:
    tenant = api.create_tenant("acme", max_partitions=10)
    path = f"/api/v1/tenants/{tenant['id']}"
    first = api.client.patch(
        path,
        json={"metadata": {"labels": {"tier": "gold"}}, "spec": {"limits": {"max_brokers": 9}}},
        headers=ADMIN_HEADERS,
    ).json()
    assert first["spec"]["limits"]["max_brokers"] == 9
    assert first["spec"]["limits"]["max_partitions"] == 10
    assert first["metadata"]["labels"] == {"tier": "gold"}
    second = api.client.patch(
        path, json={"spec": {"display_name": "ACME"}}, headers=ADMIN_HEADERS
    ).json()
    assert second["metadata"]["labels"] == {"tier": "gold"}  # no metadata → labels kept
    assert second["spec"]["display_name"] == "ACME"
    assert second["metadata"]["updated_at"] > tenant["metadata"]["updated_at"]


def test_the_name_is_immutable(api: Api) -> None:
    tenant = api.create_tenant("acme")
    response = api.client.patch(
        f"/api/v1/tenants/{tenant['id']}", json={"spec": {"name": "other"}}, headers=ADMIN_HEADERS
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "#/spec/name"


def test_limits_show_usage_against_each_limit(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    api.client.patch(
        f"/api/v1/tenants/{tenant.tenant_id}",
        json={"spec": {"limits": {"max_partitions": 12, "max_storage_bytes": 5 * GIB}}},
        headers=ADMIN_HEADERS,
    )
    response = api.client.get(f"/api/v1/tenants/{tenant.tenant_id}/limits", headers=tenant.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "TenantLimits" and body["tenant_id"] == tenant.tenant_id
    limits = {item["name"]: item for item in body["limits"]}
    assert set(limits) == {
        "max_clusters",
        "max_brokers",
        "max_partitions",
        "max_storage_bytes",
        "max_producer_byte_rate",
        "max_consumer_byte_rate",
    }
    assert limits["max_partitions"] == {
        "name": "max_partitions",
        "limit": 12,
        "usage": 0,
        "unit": "count",
    }
    assert limits["max_storage_bytes"]["limit"] == 5 * GIB
    assert limits["max_storage_bytes"]["unit"] == "bytes"
    assert limits["max_producer_byte_rate"]["unit"] == "bytes_per_second"


def test_deleting_a_tenant_removes_its_accounts_and_stops_its_keys(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    assert api.client.get("/api/v1/me", headers=tenant.headers).status_code == 200
    response = api.client.delete(f"/api/v1/tenants/{tenant.tenant_id}", headers=ADMIN_HEADERS)
    assert response.status_code == 204
    assert (
        api.client.get(f"/api/v1/tenants/{tenant.tenant_id}", headers=ADMIN_HEADERS).status_code
        == 404
    )
    assert api.client.get("/api/v1/me", headers=tenant.headers).status_code == 401


def test_admin_lists_tenants_with_total_size(api: Api) -> None:
    for name in ("one", "two", "three"):
        api.create_tenant(name)
    body = api.client.get("/api/v1/tenants", headers=ADMIN_HEADERS).json()
    assert body["kind"] == "TenantList"
    assert [item["spec"]["name"] for item in body["data"]] == ["one", "two", "three"]
    assert body["metadata"] == {"next": None, "total_size": 3}
