"""`strom controlplane ...`: run the control plane, migrate its database, export its API.

Options override the `STROM_*` environment variables, which override the defaults (a SQLite
file under `.strom/controlplane`). The control plane is imported inside each command, so
`strom broker start` (spawned often by tests and the local backend) does not pay for loading
FastAPI, SQLAlchemy and Alembic.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from strom.controlplane.core.config import Settings

EXIT_NOT_MIGRATED = 1
EXIT_BAD_CONFIG = 2

app = typer.Typer(help="Run the multi-tenant control plane (HTTP API).", no_args_is_help=True)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///path.db or postgresql+psycopg://user@host/db [env STROM_DATABASE_URL].",
        show_default=False,
    ),
]
DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Default database and admin token [env STROM_DATA_DIR]."),
]


@app.command("serve")
def serve(
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
    host: Annotated[str | None, typer.Option("--host", help="[env STROM_HOST]")] = None,
    port: Annotated[int | None, typer.Option("--port", help="[env STROM_PORT]")] = None,
    migrate: Annotated[
        bool, typer.Option("--migrate", help="Upgrade the database schema before serving.")
    ] = False,
    log_level: Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING")] = "INFO",
) -> None:
    """Serve the API in the foreground; SIGTERM or Ctrl-C stops it cleanly."""
    import uvicorn

    from strom.controlplane.app import create_app
    from strom.controlplane.migrations.runner import DatabaseNotMigrated, prepare_database

    _configure_logging(log_level)
    overrides: dict[str, Any] = {"host": host, "port": port}
    if migrate:
        overrides["migrate_on_start"] = True
    settings = _settings(database_url, data_dir, **overrides)
    try:
        prepare_database(settings)
    except DatabaseNotMigrated as error:
        raise _fail(f"cannot start: {error}", EXIT_NOT_MIGRATED) from None
    if settings.admin_token is None:
        typer.echo(f"strom: admin token in {settings.admin_token_path}", err=True)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=log_level.lower(),
        timeout_graceful_shutdown=10,
    )


@app.command("migrate")
def migrate(
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
    revision: Annotated[
        str, typer.Option("--revision", help="Target revision; `base` empties the schema.")
    ] = "head",
) -> None:
    """Upgrade (or downgrade) the database schema to a revision, the newest by default."""
    from strom.controlplane.core.db import make_engine
    from strom.controlplane.migrations import runner

    _configure_logging("INFO")
    settings = _settings(database_url, data_dir)
    runner.ensure_sqlite_directory(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    try:
        runner.migrate_to(engine, revision)
        typer.echo(f"database at revision {runner.current_revision(engine) or 'base'}")
    finally:
        engine.dispose()


@app.command("openapi")
def openapi(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Print the OpenAPI document (the checked-in snapshot is made with this)."""
    from strom.controlplane.openapi import render_openapi

    document = render_openapi()
    if output is None:
        sys.stdout.write(document)
    else:
        output.write_text(document, encoding="utf-8")


@app.command("make-migration", hidden=True)
def make_migration(message: Annotated[str, typer.Argument(help="What the change does.")]) -> None:
    """For developers: autogenerate the next migration from the models."""
    from strom.controlplane.migrations.runner import make_revision

    typer.echo(str(make_revision(message)))


def _settings(database_url: str | None, data_dir: Path | None, **overrides: Any) -> Settings:
    from pydantic import ValidationError

    from strom.controlplane.core.config import Settings

    values = {"database_url": database_url, "data_dir": data_dir, **overrides}
    try:
        return Settings(**{key: value for key, value in values.items() if value is not None})
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        raise _fail(f"invalid settings: {problems}", EXIT_BAD_CONFIG) from None


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"strom: {message}", err=True)
    return typer.Exit(code)
