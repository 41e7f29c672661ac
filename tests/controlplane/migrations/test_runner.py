"""The schema migrations on both databases: the full chain both ways, and models == migrations."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

import strom.controlplane.models  # noqa: F401 - registers every table
from strom.controlplane.core.db import make_engine
from strom.controlplane.migrations import runner

TABLES = {
    "tenants",
    "service_accounts",
    "api_keys",
    "audit_events",
    "idempotency_keys",
    "clusters",
    "operations",
}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_from_empty_downgrade_to_base_and_upgrade_again(engine: Engine) -> None:
    assert runner.current_revision(engine) is None
    runner.upgrade(engine)
    assert runner.current_revision(engine) == runner.head_revision()
    assert _tables(engine) == TABLES
    runner.downgrade(engine, "base")
    assert runner.current_revision(engine) is None
    assert _tables(engine) == set()
    runner.upgrade(engine)
    assert _tables(engine) == TABLES


def test_models_and_migrations_agree(engine: Engine) -> None:
    runner.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == [], (
        "the models differ from the migrations; add one with "
        "`strom controlplane make-migration 'what changed'`"
    )


def test_the_comparison_sees_tables_missing_from_an_empty_database(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert {diff[1].name for diff in differences if diff[0] == "add_table"} == TABLES


def test_check_migrated_names_the_fix_on_an_empty_database(engine: Engine) -> None:
    with pytest.raises(runner.DatabaseNotMigrated) as raised:
        runner.check_migrated(engine)
    message = str(raised.value)
    assert "has no strom schema yet" in message
    assert "strom controlplane migrate" in message and "serve --migrate" in message
    runner.upgrade(engine)
    runner.check_migrated(engine)


def test_migrate_to_goes_down_and_up(engine: Engine) -> None:
    runner.migrate_to(engine, "head")
    runner.migrate_to(engine, "base")
    assert runner.current_revision(engine) is None
    runner.migrate_to(engine, runner.head_revision())
    assert runner.current_revision(engine) == runner.head_revision()


def test_upgrading_from_the_first_revision_keeps_existing_keys(engine: Engine) -> None:
    runner.upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO tenants (id, labels, created_at, updated_at, name, max_clusters, "
                "max_brokers, max_partitions, max_storage_bytes, max_producer_byte_rate, "
                "max_consumer_byte_rate) VALUES ('ten-a', '{}', :now, :now, 'acme', 1, 1, 1, "
                "1, 1, 1)"
            ),
            {"now": datetime.now(UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO service_accounts (id, labels, created_at, updated_at, tenant_id, "
                "name, description) VALUES ('sa-a', '{}', :now, :now, 'ten-a', 'app', '')"
            ),
            {"now": datetime.now(UTC)},
        )
        connection.execute(
            text(
                "INSERT INTO api_keys (id, labels, created_at, updated_at, tenant_id, "
                "service_account_id, scope, description, secret_hash) VALUES ('key-a', '{}', "
                ":now, :now, 'ten-a', 'sa-a', 'controlplane', '', 'hash')"
            ),
            {"now": datetime.now(UTC)},
        )
    runner.upgrade(engine)
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT scope, cluster_id, confirmed_at FROM api_keys WHERE id = 'key-a'")
        ).one()
    assert tuple(row) == ("controlplane", None, None)
    runner.downgrade(engine, "0001")
    assert "clusters" not in _tables(engine)


def test_importing_env_outside_alembic_runs_nothing() -> None:
    module = importlib.import_module("strom.controlplane.migrations.env")
    assert module.target_metadata is SQLModel.metadata
