"""API keys: shown once, stored hashed, rotated with an optional grace period, revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tests.support.controlplane import ADMIN_HEADERS, Api, TenantCredentials


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _key_path(tenant: TenantCredentials, key_id: str | None = None) -> str:
    return f"/api/v1/tenants/{tenant.tenant_id}/api-keys/{key_id or tenant.api_key_id}"


def test_the_secret_is_shown_once_and_works_as_a_bearer_token(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    key = api.create_api_key(tenant.tenant_id, tenant.service_account_id, tenant.headers)
    assert key["id"].startswith("key-") and key["kind"] == "ApiKey"
    assert key["token"] == f"{key['id']}.{key['secret']}"
    assert key["status"]["phase"] == "ACTIVE"
    me = api.client.get("/api/v1/me", headers=_bearer(key["token"])).json()
    assert me["api_key_id"] == key["id"] and me["tenant_id"] == tenant.tenant_id
    fetched = api.client.get(_key_path(tenant, key["id"]), headers=tenant.headers).json()
    assert "secret" not in fetched and "token" not in fetched
    assert key["secret"] not in str(fetched)


def test_only_an_argon2_hash_of_the_secret_is_stored(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    runtime = api.runtime
    with runtime.engine.connect() as connection:
        (stored,) = connection.execute(
            text("SELECT secret_hash FROM api_keys WHERE id = :id"), {"id": tenant.api_key_id}
        ).one()
    assert stored.startswith("$argon2id$")
    assert tenant.token.split(".", 1)[1] not in stored


def test_a_wrong_secret_or_unknown_key_answers_401(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    for token in (f"{tenant.api_key_id}.wrong", "key-unknown.secret", "garbage", ""):
        response = api.client.get("/api/v1/me", headers=_bearer(token))
        assert response.status_code == 401, token
        assert response.headers["www-authenticate"] == "Bearer"
    assert api.client.get("/api/v1/me").status_code == 401


def test_rotation_replaces_the_secret_immediately_without_grace(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    rotated = api.client.post(f"{_key_path(tenant)}/rotate", headers=tenant.headers)
    assert rotated.status_code == 200
    body = rotated.json()
    assert body["id"] == tenant.api_key_id and body["token"] != tenant.token
    assert body["status"]["rotated_at"] is not None
    assert api.client.get("/api/v1/me", headers=tenant.headers).status_code == 401
    assert api.client.get("/api/v1/me", headers=_bearer(body["token"])).status_code == 200


def test_rotation_with_a_grace_period_keeps_the_old_secret_working_for_it(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    body = api.client.post(
        f"{_key_path(tenant)}/rotate", json={"grace_period_seconds": 3600}, headers=tenant.headers
    ).json()
    assert body["status"]["previous_secret_expires_at"] is not None
    assert api.client.get("/api/v1/me", headers=tenant.headers).status_code == 200
    assert api.client.get("/api/v1/me", headers=_bearer(body["token"])).status_code == 200


def test_revoked_keys_stop_working_and_stay_listed(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    other = api.create_api_key(tenant.tenant_id, tenant.service_account_id, tenant.headers)
    revoked = api.client.post(f"{_key_path(tenant, other['id'])}/revoke", headers=tenant.headers)
    assert revoked.status_code == 200
    assert revoked.json()["status"]["phase"] == "REVOKED"
    response = api.client.get("/api/v1/me", headers=_bearer(other["token"]))
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    rotate = api.client.post(f"{_key_path(tenant, other['id'])}/rotate", headers=tenant.headers)
    assert rotate.status_code == 409 and rotate.json()["code"] == "api_key_not_active"
    listed = api.client.get(f"/api/v1/tenants/{tenant.tenant_id}/api-keys", headers=tenant.headers)
    phases = {item["id"]: item["status"]["phase"] for item in listed.json()["data"]}
    assert phases == {tenant.api_key_id: "ACTIVE", other["id"]: "REVOKED"}


def test_keys_expire(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    soon = datetime.now(UTC) + timedelta(hours=1)
    key = api.create_api_key(
        tenant.tenant_id, tenant.service_account_id, tenant.headers, expires_at=soon.isoformat()
    )
    assert api.client.get("/api/v1/me", headers=_bearer(key["token"])).status_code == 200
    runtime = api.runtime
    with runtime.engine.begin() as connection:
        connection.execute(
            text("UPDATE api_keys SET expires_at = :past WHERE id = :id"),
            {"past": datetime(2000, 1, 1), "id": key["id"]},
        )
    response = api.client.get("/api/v1/me", headers=_bearer(key["token"]))
    assert response.status_code == 401 and "expired" in response.json()["detail"]


def test_an_expiry_in_the_past_is_refused(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    response = api.client.post(
        f"/api/v1/tenants/{tenant.tenant_id}/api-keys",
        json={
            "spec": {
                "service_account_id": tenant.service_account_id,
                "expires_at": "2001-01-01T00:00:00Z",
            }
        },
        headers=tenant.headers,
    )
    assert response.status_code == 422 and response.json()["code"] == "expires_in_past"


def test_a_key_needs_an_owner_in_the_same_tenant(api: Api) -> None:
    mine = api.tenant_with_key("mine")
    theirs = api.tenant_with_key("theirs")
    response = api.client.post(
        f"/api/v1/tenants/{mine.tenant_id}/api-keys",
        json={"spec": {"service_account_id": theirs.service_account_id}},
        headers=mine.headers,
    )
    assert response.status_code == 404
    assert theirs.service_account_id in response.json()["detail"]


def test_list_filters_by_service_account(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    other = api.create_service_account(tenant.tenant_id, "other", tenant.headers)
    api.create_api_key(tenant.tenant_id, other["id"], tenant.headers)
    response = api.client.get(
        f"/api/v1/tenants/{tenant.tenant_id}/api-keys",
        params={"service_account_id": other["id"]},
        headers=tenant.headers,
    ).json()
    assert response["metadata"]["total_size"] == 1
    assert response["data"][0]["spec"]["service_account_id"] == other["id"]


def test_patch_and_delete(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    other = api.create_api_key(tenant.tenant_id, tenant.service_account_id, tenant.headers)
    patched = api.client.patch(
        _key_path(tenant, other["id"]),
        json={"spec": {"description": "ci"}, "metadata": {"labels": {"ci": "true"}}},
        headers=ADMIN_HEADERS,
    ).json()
    assert patched["spec"]["description"] == "ci" and patched["metadata"]["labels"] == {
        "ci": "true"
    }
    assert (
        api.client.delete(_key_path(tenant, other["id"]), headers=tenant.headers).status_code == 204
    )
    assert api.client.get("/api/v1/me", headers=_bearer(other["token"])).status_code == 401
