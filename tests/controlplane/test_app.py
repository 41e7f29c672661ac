"""The service around the API: probes, metrics, docs, start-up checks, request limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from strom.controlplane.app import create_app
from strom.controlplane.core.db import make_engine
from strom.controlplane.migrations.runner import DatabaseNotMigrated, downgrade
from tests.support.controlplane import ADMIN_HEADERS, TestClient, make_settings


def test_healthz_and_readyz_answer_ok(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ok"}


def test_metrics_count_requests_by_route_template(sqlite_client: TestClient) -> None:
    sqlite_client.get("/api/v1/tenants/ten-doesnotexist", headers=ADMIN_HEADERS)
    text = sqlite_client.get("/metrics").text
    assert (
        'strom_controlplane_http_requests_total{method="GET",'
        'route="/api/v1/tenants/{tenant_id}",status="404"} 1.0'
    ) in text
    assert "strom_controlplane_http_request_duration_seconds_bucket" in text


def test_docs_and_openapi_are_served(sqlite_client: TestClient) -> None:
    assert "swagger" in sqlite_client.get("/docs").text.lower()
    document = sqlite_client.get("/openapi.json").json()
    assert document["info"]["title"] == "Strom control plane"
    assert "/api/v1/tenants" in document["paths"]


def test_create_app_does_no_io(tmp_path: Path) -> None:
    data_dir = tmp_path / "never-created"
    create_app(make_settings(data_dir, None))
    assert not data_dir.exists()


def test_start_refuses_an_unmigrated_database_and_says_how_to_migrate(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, None, migrate_on_start=False))
    with pytest.raises(DatabaseNotMigrated) as raised, TestClient(app):
        pass
    assert "strom controlplane migrate" in str(raised.value)
    assert "serve --migrate" in str(raised.value)


def test_start_with_migrate_on_start_creates_the_schema(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, None, migrate_on_start=True)
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 200
    with TestClient(create_app(settings.model_copy(update={"migrate_on_start": False}))) as again:
        assert again.get("/readyz").status_code == 200


def test_readyz_answers_503_problem_when_the_schema_is_gone(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, None)
    with TestClient(create_app(settings)) as client:
        engine = make_engine(settings.resolved_database_url)
        downgrade(engine, "base")
        engine.dispose()
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["code"] == "database_not_migrated"
    assert response.headers["content-type"] == "application/problem+json"


def test_request_body_over_the_limit_answers_413_problem(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, None, max_request_bytes=1024)
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/api/v1/tenants",
            json={"spec": {"name": "big", "display_name": "x" * 2000}},
            headers=ADMIN_HEADERS,
        )
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert response.headers["content-type"] == "application/problem+json"


def test_two_apps_in_one_process_keep_separate_metrics(tmp_path: Path) -> None:
    first = create_app(make_settings(tmp_path / "a", None))
    second = create_app(make_settings(tmp_path / "b", None))
    with TestClient(first) as client_a, TestClient(second) as client_b:
        client_a.get("/healthz")
        assert 'route="/healthz"' in client_a.get("/metrics").text
        assert 'route="/healthz"' not in client_b.get("/metrics").text
