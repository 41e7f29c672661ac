"""Every error is an RFC 9457 problem detail with a machine-readable code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter

from strom.controlplane.app import create_app
from strom.controlplane.core.errors import PROBLEM_TYPE_BASE
from tests.support.controlplane import ADMIN_HEADERS, Api, TestClient, make_settings

MEMBERS = {"type", "title", "status", "detail", "instance", "code"}


def _assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert set(body) >= MEMBERS
    assert body["status"] == status and body["code"] == code
    assert body["type"] == PROBLEM_TYPE_BASE + code
    assert body["instance"] == response.request.url.path
    assert body["title"] and body["detail"]
    return body


def test_unknown_route_is_a_404_problem(sqlite_client: TestClient) -> None:
    body = _assert_problem(sqlite_client.get("/api/v1/nothing-here"), 404, "not_found")
    assert "/api/v1/nothing-here" in body["detail"]


def test_unknown_object_is_a_404_problem_naming_kind_and_id(sqlite_api: Api) -> None:
    tenant = sqlite_api.create_tenant("acme")
    response = sqlite_api.client.get(
        f"/api/v1/tenants/{tenant['id']}/service-accounts/sa-missing", headers=ADMIN_HEADERS
    )
    body = _assert_problem(response, 404, "not_found")
    assert body["detail"] == "ServiceAccount sa-missing not found."


def test_wrong_method_is_a_405_problem(sqlite_client: TestClient) -> None:
    _assert_problem(
        sqlite_client.put("/api/v1/tenants", headers=ADMIN_HEADERS), 405, "method_not_allowed"
    )


def test_missing_credentials_are_a_401_problem_with_a_challenge(sqlite_client: TestClient) -> None:
    response = sqlite_client.get("/api/v1/tenants")
    _assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


def test_validation_errors_point_at_each_bad_field(sqlite_client: TestClient) -> None:
    response = sqlite_client.post(
        "/api/v1/tenants",
        json={"spec": {"name": "Bad Name", "limits": {"max_brokers": -1}}, "extra": 1},
        headers=ADMIN_HEADERS,
    )
    body = _assert_problem(response, 422, "validation_failed")
    pointers = {error["pointer"] for error in body["errors"]}
    assert pointers == {"#/spec/name", "#/spec/limits/max_brokers", "#/extra"}
    assert all(error["detail"] for error in body["errors"])


def test_bad_query_parameters_name_the_parameter(sqlite_client: TestClient) -> None:
    response = sqlite_client.get("/api/v1/tenants?page_size=many", headers=ADMIN_HEADERS)
    body = _assert_problem(response, 422, "validation_failed")
    assert body["errors"] == [{"detail": body["errors"][0]["detail"], "parameter": "page_size"}]


def test_malformed_json_is_a_400_problem(sqlite_client: TestClient) -> None:
    response = sqlite_client.post(
        "/api/v1/tenants",
        content=b"{not json",
        headers={**ADMIN_HEADERS, "Content-Type": "application/json"},
    )
    _assert_problem(response, 400, "malformed_body")


def test_conflicts_and_forbidden_are_problems(sqlite_api: Api) -> None:
    sqlite_api.create_tenant("acme")
    conflict = sqlite_api.client.post(
        "/api/v1/tenants", json={"spec": {"name": "acme"}}, headers=ADMIN_HEADERS
    )
    _assert_problem(conflict, 409, "tenant_name_taken")
    tenant = sqlite_api.tenant_with_key("other")
    _assert_problem(
        sqlite_api.client.get("/api/v1/tenants", headers=tenant.headers), 403, "admin_required"
    )


def test_a_chunked_body_over_the_limit_is_a_413_problem(tmp_path: Any) -> None:
    settings = make_settings(tmp_path, None, max_request_bytes=100)
    with TestClient(create_app(settings)) as client:
        chunks = iter([b'{"spec": {"name": "', b"a" * 200, b'"}}'])
        response = client.post(
            "/api/v1/tenants",
            content=chunks,
            headers={**ADMIN_HEADERS, "Content-Type": "application/json"},
        )
    _assert_problem(response, 413, "request_too_large")


@pytest.fixture
def failing_client(tmp_path: Any) -> Iterator[TestClient]:
    app = create_app(make_settings(tmp_path, None))
    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    app.include_router(router)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_an_unexpected_error_is_a_500_problem_without_internals(failing_client: TestClient) -> None:
    body = _assert_problem(failing_client.get("/boom"), 500, "internal_error")
    assert "a bug" not in body["detail"]
