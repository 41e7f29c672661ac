"""Alembic's environment: compares against `SQLModel.metadata`, batch mode for SQLite.

Alembic runs this file itself (as module `env_py`). Importing it as
`strom.controlplane.migrations.env`, as the packaging test does, must do nothing: there is no
migration context then.
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Engine, TypeDecorator
from sqlmodel import SQLModel

import strom.controlplane.models  # noqa: F401 - registers every table on SQLModel.metadata
from strom.controlplane.core.db import make_engine

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    if context.is_offline_mode():
        context.configure(
            url=context.config.get_main_option("sqlalchemy.url"),
            target_metadata=target_metadata,
            render_as_batch=True,
            literal_binds=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine: Engine | None = context.config.attributes.get("engine")
    owned = engine is None
    if engine is None:
        engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=True,
                compare_type=True,
                render_item=_render_item,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        if owned:
            engine.dispose()


def _render_item(kind: str, item: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write our column types (UTCDateTime, SQLModel's AutoString) as plain SQLAlchemy types,
    so migrations never import application code that may change later."""
    if kind == "type" and isinstance(item, TypeDecorator):
        return f"sa.{item.impl!r}"
    return False


if __name__ != "strom.controlplane.migrations.env":
    run_migrations()
