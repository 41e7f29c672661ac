"""Apply and check the schema migrations from code, with no alembic.ini to find.

The service refuses to start on a database that is not at the newest revision (serving an
old schema would fail on the first query that touches a new column) unless told to migrate.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from strom.controlplane.core.config import Settings
from strom.controlplane.core.db import make_engine, sqlite_file

SCRIPT_LOCATION = Path(__file__).resolve().parent
HOW_TO_MIGRATE = (
    "run `strom controlplane migrate` (same --database-url / STROM_DATABASE_URL), "
    "or start with `strom controlplane serve --migrate`"
)


class DatabaseNotMigrated(RuntimeError):
    """The database schema is not at the revision this version of strom needs."""


def alembic_config(engine: Engine) -> Config:
    """An Alembic config that runs `env.py` on `engine`."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest revision this version of strom ships."""
    head = ScriptDirectory(str(SCRIPT_LOCATION)).get_current_head()
    assert head is not None, "no migrations found"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def migrate_to(engine: Engine, revision: str = "head") -> None:
    """Upgrade or downgrade to `revision`, whichever direction it lies in."""
    current = current_revision(engine)
    if revision != "head" and _at_or_below(revision, current):
        downgrade(engine, revision)
    else:
        upgrade(engine, revision)


def ensure_sqlite_directory(database_url: str) -> None:
    """Create the folder of a SQLite file: SQLite creates the file, not its folder."""
    database = sqlite_file(database_url)
    if database is not None:
        database.parent.mkdir(parents=True, exist_ok=True)


def check_migrated(engine: Engine) -> None:
    """Raise `DatabaseNotMigrated`, saying how to fix it, unless the schema is at head."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return
    known = {script.revision for script in ScriptDirectory(str(SCRIPT_LOCATION)).walk_revisions()}
    url = engine.url.render_as_string(hide_password=True)
    if current is not None and current not in known:
        raise DatabaseNotMigrated(
            f"the database {url} is at revision {current}, newer than this version of strom "
            f"knows (newest: {head}); upgrade strom"
        )
    state = "has no strom schema yet" if current is None else f"is at revision {current}"
    raise DatabaseNotMigrated(
        f"the database {url} {state}; this version needs revision {head}: {HOW_TO_MIGRATE}"
    )


def prepare_database(settings: Settings, engine: Engine | None = None) -> None:
    """Make the database ready to serve: migrate when allowed, else check the revision."""
    ensure_sqlite_directory(settings.resolved_database_url)
    owned = engine is None
    engine = engine or make_engine(settings.resolved_database_url)
    try:
        if settings.migrate_on_start:
            upgrade(engine)
        else:
            check_migrated(engine)
    finally:
        if owned:
            engine.dispose()


def _at_or_below(revision: str, current: str | None) -> bool:
    if revision == "base":
        return True
    if current is None:
        return False
    script = ScriptDirectory(str(SCRIPT_LOCATION))
    return any(found.revision == revision for found in script.iterate_revisions(current, "base"))


def make_revision(message: str) -> Path:
    """Autogenerate the next revision file from the models (a developer's command).

    The models are compared with a scratch SQLite database upgraded to the current head.
    """
    heads = ScriptDirectory(str(SCRIPT_LOCATION)).get_heads()
    next_number = max((int(head) for head in heads if head.isdigit()), default=0) + 1
    with tempfile.TemporaryDirectory() as scratch:
        engine = make_engine(f"sqlite:///{Path(scratch) / 'scratch.db'}")
        try:
            if heads:
                upgrade(engine)
            script = command.revision(
                alembic_config(engine),
                message=message,
                autogenerate=True,
                rev_id=f"{next_number:04d}",
            )
        finally:
            engine.dispose()
    assert script is not None and not isinstance(script, list)
    return Path(script.path)
