"""Cursor pagination: `page_size` + `page_token` → `{data, metadata{next, total_size}}`."""

from __future__ import annotations

from tests.support.controlplane import ADMIN_HEADERS, Api


def test_pages_follow_next_until_the_end_in_creation_order(api: Api) -> None:
    tenant = api.create_tenant("acme")
    names = [f"app-{index}" for index in range(7)]
    for name in names:
        api.create_service_account(tenant["id"], name)
    seen: list[str] = []
    url: str | None = f"/api/v1/tenants/{tenant['id']}/service-accounts?page_size=3"
    pages = 0
    while url is not None:
        body = api.client.get(url, headers=ADMIN_HEADERS).json()
        assert body["metadata"]["total_size"] == 7
        assert len(body["data"]) <= 3
        seen += [item["spec"]["name"] for item in body["data"]]
        url = body["metadata"]["next"]
        pages += 1
    assert seen == names
    assert pages == 3


def test_rows_added_between_pages_are_neither_skipped_nor_repeated(api: Api) -> None:
    tenant = api.create_tenant("acme")
    for index in range(4):
        api.create_service_account(tenant["id"], f"app-{index}")
    path = f"/api/v1/tenants/{tenant['id']}/service-accounts"
    first = api.client.get(path, params={"page_size": 2}, headers=ADMIN_HEADERS).json()
    api.create_service_account(tenant["id"], "late")
    second = api.client.get(first["metadata"]["next"], headers=ADMIN_HEADERS).json()
    third = api.client.get(second["metadata"]["next"], headers=ADMIN_HEADERS).json()
    names = [item["spec"]["name"] for page in (first, second, third) for item in page["data"]]
    assert names == ["app-0", "app-1", "app-2", "app-3", "late"]
    assert third["metadata"]["next"] is None


def test_a_bad_page_token_answers_400_problem(api: Api) -> None:
    response = api.client.get(
        "/api/v1/tenants", params={"page_token": "not-a-token"}, headers=ADMIN_HEADERS
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_page_token"


def test_page_size_is_bounded(api: Api) -> None:
    for size in (0, 501):
        response = api.client.get(
            "/api/v1/tenants", params={"page_size": size}, headers=ADMIN_HEADERS
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["parameter"] == "page_size"
