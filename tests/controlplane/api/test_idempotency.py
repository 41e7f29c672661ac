"""`Idempotency-Key` on POSTs: one object per key, the same answer on retry."""

from __future__ import annotations

from datetime import timedelta

from httpx import Response
from sqlmodel import Session

from strom.controlplane.models.base import utcnow
from strom.controlplane.models.idempotency import IdempotencyRecord
from tests.support.controlplane import ADMIN_HEADERS, Api, TestClient


def _post_key(api: Api, tenant_id: str, account_id: str, key: str, **spec: str) -> Response:
    return api.client.post(
        f"/api/v1/tenants/{tenant_id}/api-keys",
        json={"spec": {"service_account_id": account_id, **spec}},
        headers={**ADMIN_HEADERS, "Idempotency-Key": key},
    )


def test_a_retried_create_returns_the_first_answer_and_creates_one_object(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    first = _post_key(api, tenant.tenant_id, tenant.service_account_id, "retry-1")
    again = _post_key(api, tenant.tenant_id, tenant.service_account_id, "retry-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    keys = api.client.get(f"/api/v1/tenants/{tenant.tenant_id}/api-keys", headers=ADMIN_HEADERS)
    assert keys.json()["metadata"]["total_size"] == 2  # the fixture's key and this one


def test_json_spacing_and_key_order_do_not_make_another_request(api: Api) -> None:
    headers = {**ADMIN_HEADERS, "Idempotency-Key": "k", "Content-Type": "application/json"}
    one = api.client.post(
        "/api/v1/tenants",
        content='{"spec": {"name": "acme", "display_name": "A"}}',
        headers=headers,
    )
    two = api.client.post(
        "/api/v1/tenants", content='{"spec":{"display_name":"A","name":"acme"}}', headers=headers
    )
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] == two.json()["id"]


def test_reusing_a_key_for_another_request_answers_422(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    _post_key(api, tenant.tenant_id, tenant.service_account_id, "k")
    other = _post_key(api, tenant.tenant_id, tenant.service_account_id, "k", description="x")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"


def test_a_failed_request_releases_its_key(api: Api) -> None:
    headers = {**ADMIN_HEADERS, "Idempotency-Key": "fix-and-retry"}
    api.create_tenant("taken")
    failed = api.client.post("/api/v1/tenants", json={"spec": {"name": "taken"}}, headers=headers)
    assert failed.status_code == 409
    api.client.delete(f"/api/v1/tenants/{_tenant_id(api, 'taken')}", headers=ADMIN_HEADERS)
    retried = api.client.post("/api/v1/tenants", json={"spec": {"name": "taken"}}, headers=headers)
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers


def test_keys_belong_to_the_caller(api: Api) -> None:
    first = api.tenant_with_key("first")
    second = api.tenant_with_key("second")
    for tenant in (first, second):
        response = api.client.post(
            f"/api/v1/tenants/{tenant.tenant_id}/service-accounts",
            json={"spec": {"name": "app"}},
            headers={**tenant.headers, "Idempotency-Key": "same-key"},
        )
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers


def test_a_key_in_flight_answers_409(api: Api) -> None:
    _claim(api, "admin", "busy", age=timedelta(seconds=1))
    response = api.client.post(
        "/api/v1/tenants",
        json={"spec": {"name": "acme"}},
        headers={**ADMIN_HEADERS, "Idempotency-Key": "busy"},
    )
    assert response.status_code == 409
    assert response.json()["code"] == "idempotency_key_in_use"


def test_an_abandoned_claim_is_taken_over(api: Api) -> None:
    _claim(api, "admin", "stale", age=timedelta(hours=1))
    response = api.client.post(
        "/api/v1/tenants",
        json={"spec": {"name": "acme"}},
        headers={**ADMIN_HEADERS, "Idempotency-Key": "stale"},
    )
    assert response.status_code == 201


def test_every_post_in_the_api_documents_the_header(sqlite_client: TestClient) -> None:
    document = sqlite_client.get("/openapi.json").json()
    posts = [
        (path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method == "post"
    ]
    assert posts
    for path, operation in posts:
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, path


def _tenant_id(api: Api, name: str) -> str:
    tenants = api.client.get("/api/v1/tenants", headers=ADMIN_HEADERS).json()["data"]
    return next(t["id"] for t in tenants if t["spec"]["name"] == name)


def _claim(api: Api, principal: str, key: str, age: timedelta) -> None:
    """A claim without an answer, as a request still running (or a dead process) leaves."""
    created = utcnow() - age
    with Session(api.runtime.engine) as session:
        session.add(
            IdempotencyRecord(
                principal=principal,
                key=key,
                fingerprint="0" * 64,
                created_at=created,
                expires_at=created + timedelta(days=1),
            )
        )
        session.commit()
