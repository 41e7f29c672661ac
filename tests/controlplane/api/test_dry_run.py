"""`?dry_run=true` on every mutation: the answer as if done, and nothing changed."""

from __future__ import annotations

from tests.support.controlplane import ADMIN_HEADERS, Api, TestClient

DRY = {"dry_run": "true"}


def test_every_mutation_in_the_api_takes_dry_run(sqlite_client: TestClient) -> None:
    document = sqlite_client.get("/openapi.json").json()
    mutations = [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in {"post", "put", "patch", "delete"}
    ]
    assert len(mutations) >= 10
    for method, path, operation in mutations:
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert "dry_run" in names, f"{method.upper()} {path}"


def test_dry_run_create_answers_the_object_but_stores_nothing(api: Api) -> None:
    response = api.client.post(
        "/api/v1/tenants", params=DRY, json={"spec": {"name": "acme"}}, headers=ADMIN_HEADERS
    )
    assert response.status_code == 201
    assert response.json()["spec"]["name"] == "acme"
    listing = api.client.get("/api/v1/tenants", headers=ADMIN_HEADERS).json()
    assert listing["metadata"]["total_size"] == 0
    assert (
        api.client.get(
            f"/api/v1/tenants/{response.json()['id']}", headers=ADMIN_HEADERS
        ).status_code
        == 404
    )


def test_dry_run_still_validates_and_checks_conflicts(api: Api) -> None:
    api.create_tenant("acme")
    conflict = api.client.post(
        "/api/v1/tenants", params=DRY, json={"spec": {"name": "acme"}}, headers=ADMIN_HEADERS
    )
    invalid = api.client.post(
        "/api/v1/tenants", params=DRY, json={"spec": {"name": "NO"}}, headers=ADMIN_HEADERS
    )
    assert conflict.status_code == 409 and invalid.status_code == 422


def test_dry_run_patch_and_delete_change_nothing(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    path = f"/api/v1/tenants/{tenant.tenant_id}"
    before = api.client.get(path, headers=ADMIN_HEADERS).json()
    patched = api.client.patch(
        path, params=DRY, json={"spec": {"display_name": "New"}}, headers=ADMIN_HEADERS
    )
    assert patched.status_code == 200 and patched.json()["spec"]["display_name"] == "New"
    account = f"{path}/service-accounts/{tenant.service_account_id}"
    assert api.client.delete(account, params=DRY, headers=tenant.headers).status_code == 204
    assert api.client.delete(path, params=DRY, headers=ADMIN_HEADERS).status_code == 204
    assert api.client.get(path, headers=ADMIN_HEADERS).json() == before
    assert api.client.get(account, headers=tenant.headers).status_code == 200


def test_dry_run_api_key_create_and_rotate_show_no_secret_and_change_nothing(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    keys = f"/api/v1/tenants/{tenant.tenant_id}/api-keys"
    created = api.client.post(
        keys,
        params=DRY,
        json={"spec": {"service_account_id": tenant.service_account_id}},
        headers=tenant.headers,
    ).json()
    assert created["secret"] is None and created["token"] is None
    assert created["status"]["phase"] == "ACTIVE"
    rotated = api.client.post(
        f"{keys}/{tenant.api_key_id}/rotate", params=DRY, headers=tenant.headers
    )
    assert rotated.status_code == 200 and rotated.json()["secret"] is None
    revoked = api.client.post(
        f"{keys}/{tenant.api_key_id}/revoke", params=DRY, headers=tenant.headers
    )
    assert revoked.json()["status"]["phase"] == "REVOKED"
    assert api.client.get("/api/v1/me", headers=tenant.headers).status_code == 200
    listing = api.client.get(keys, headers=tenant.headers).json()
    assert listing["metadata"]["total_size"] == 1
    assert listing["data"][0]["status"]["phase"] == "ACTIVE"
