"""Service accounts: a tenant's identities, each with one canonical principal."""

from __future__ import annotations

from tests.support.controlplane import ADMIN_HEADERS, Api


def test_a_tenant_creates_a_service_account_with_its_canonical_principal(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    account = api.create_service_account(tenant.tenant_id, "orders-writer", tenant.headers)
    assert account["id"].startswith("sa-") and account["kind"] == "ServiceAccount"
    assert account["metadata"]["tenant_id"] == tenant.tenant_id
    assert account["status"]["principal"] == f"User:{tenant.tenant_id}.orders-writer"


def test_the_principal_is_the_same_string_everywhere(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    principal = f"User:{tenant.tenant_id}.acme-deployer"
    me = api.client.get("/api/v1/me", headers=tenant.headers).json()
    account = api.client.get(
        f"/api/v1/tenants/{tenant.tenant_id}/service-accounts/{tenant.service_account_id}",
        headers=tenant.headers,
    ).json()
    key = api.client.get(
        f"/api/v1/tenants/{tenant.tenant_id}/api-keys/{tenant.api_key_id}", headers=tenant.headers
    ).json()
    api.create_service_account(tenant.tenant_id, "other", tenant.headers)
    events = api.client.get(
        f"/api/v1/tenants/{tenant.tenant_id}/audit-events", headers=tenant.headers
    ).json()["data"]
    assert me["principal"] == account["status"]["principal"] == principal
    assert key["status"]["principal"] == principal
    assert events[-1]["spec"]["actor"] == principal


def test_names_are_unique_within_a_tenant_only(api: Api) -> None:
    first = api.create_tenant("first")
    second = api.create_tenant("second")
    api.create_service_account(first["id"], "app")
    api.create_service_account(second["id"], "app")
    response = api.client.post(
        f"/api/v1/tenants/{first['id']}/service-accounts",
        json={"spec": {"name": "app"}},
        headers=ADMIN_HEADERS,
    )
    assert response.status_code == 409
    assert response.json()["code"] == "service_account_name_taken"


def test_names_must_be_kafka_and_dns_safe(api: Api) -> None:
    tenant = api.create_tenant("acme")
    for name in ("Upper", "has.dot", "-leading", "x" * 64, ""):
        response = api.client.post(
            f"/api/v1/tenants/{tenant['id']}/service-accounts",
            json={"spec": {"name": name}},
            headers=ADMIN_HEADERS,
        )
        assert response.status_code == 422, name


def test_patch_changes_description_and_labels_not_the_name(api: Api) -> None:
    tenant = api.create_tenant("acme")
    account = api.create_service_account(tenant["id"], "app")
    path = f"/api/v1/tenants/{tenant['id']}/service-accounts/{account['id']}"
    updated = api.client.patch(
        path,
        json={"metadata": {"labels": {"env": "prod"}}, "spec": {"description": "the app"}},
        headers=ADMIN_HEADERS,
    ).json()
    assert updated["spec"] == {"name": "app", "description": "the app"}
    assert updated["metadata"]["labels"] == {"env": "prod"}
    rename = api.client.patch(path, json={"spec": {"name": "new"}}, headers=ADMIN_HEADERS)
    assert rename.status_code == 422


def test_deleting_a_service_account_stops_its_keys(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    other = api.create_service_account(tenant.tenant_id, "doomed", tenant.headers)
    key = api.create_api_key(tenant.tenant_id, other["id"], tenant.headers)
    doomed_headers = {"Authorization": f"Bearer {key['token']}"}
    assert api.client.get("/api/v1/me", headers=doomed_headers).status_code == 200
    path = f"/api/v1/tenants/{tenant.tenant_id}/service-accounts/{other['id']}"
    assert api.client.delete(path, headers=tenant.headers).status_code == 204
    assert api.client.get(path, headers=tenant.headers).status_code == 404
    assert api.client.get("/api/v1/me", headers=doomed_headers).status_code == 401
    key_path = f"/api/v1/tenants/{tenant.tenant_id}/api-keys/{key['id']}"
    assert api.client.get(key_path, headers=tenant.headers).status_code == 404
