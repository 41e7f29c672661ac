"""The SQL engine: one per app, SQLite (embedded default) or PostgreSQL (production).

Creating the engine opens no connection; the first request (or the migration check on start)
does. SQLite gets the pragmas a multi-threaded server needs: foreign keys enforced (SQLite
ignores them otherwise), WAL so readers never block the writer, and a busy timeout instead of
immediate "database is locked" errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 5_000


def make_engine(database_url: str) -> Engine:
    """An engine for `database_url` with per-dialect settings applied."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def sqlite_file(database_url: str) -> Path | None:
    """The file a SQLite URL points at (None for other databases and in-memory SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _configure_sqlite_connection(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()
