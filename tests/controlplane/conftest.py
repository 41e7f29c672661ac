"""Fixtures for control-plane tests: the real app on SQLite and on PostgreSQL.

Its clusters are in-memory fakes (`tests.support.fake_clusters`); the tests that start real
brokers build their own app.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strom.controlplane.app import create_app
from tests.support.controlplane import (
    Api,
    TestClient,
    make_settings,
    postgres_schema,
    postgres_user,
)
from tests.support.fake_clusters import FakeClusters

NO_POSTGRES = (
    "no PostgreSQL server answers at 127.0.0.1:5432 (database `test`, user postgres or root, "
    "trust auth); the PostgreSQL variant of this test needs one"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh schema on the local PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'controlplane.db'}"
        return
    if postgres_user() is None:
        pytest.skip(NO_POSTGRES)
    with postgres_schema() as url:
        yield url


@pytest.fixture
def fake_clusters() -> FakeClusters:
    return FakeClusters()


@pytest.fixture
def client(database_url: str, tmp_path: Path, fake_clusters: FakeClusters) -> Iterator[TestClient]:
    """The real app, started (migrated) on `database_url`, with in-memory clusters."""
    app = create_app(
        make_settings(tmp_path / "data", database_url),
        provisioner=fake_clusters.provisioner,
        kafka_admin_factory=fake_clusters.admin,
    )
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)


@pytest.fixture
def sqlite_client(tmp_path: Path, fake_clusters: FakeClusters) -> Iterator[TestClient]:
    """The real app on SQLite, for behaviour that does not depend on the database."""
    app = create_app(
        make_settings(tmp_path / "data", None),
        provisioner=fake_clusters.provisioner,
        kafka_admin_factory=fake_clusters.admin,
    )
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def sqlite_api(sqlite_client: TestClient) -> Api:
    return Api(sqlite_client)
