"""`strom broker ...`: run a broker process with Kafka's start contract."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from strom.broker.config.broker_config import BrokerConfig, ConfigError
from strom.broker.config.properties import parse_override, parse_properties
from strom.broker.log.errors import LogStorageError
from strom.broker.main import run_broker

app = typer.Typer(help="Run a Kafka-compatible broker.", no_args_is_help=True)

EXIT_BAD_CONFIG = 2
EXIT_STORAGE = 1


@app.command("start")
def start(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="A Kafka server.properties file."),
    ] = None,
    override: Annotated[
        list[str] | None,
        typer.Option("--override", help="key=value, applied after the file; repeatable."),
    ] = None,
    log_level: Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING")] = "INFO",
) -> None:
    """Start a broker in the foreground; SIGTERM or Ctrl-C stops it cleanly."""
    logging.basicConfig(
        level=log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        properties = _load_properties(config, override or [])
        broker_config = BrokerConfig.from_properties(properties)
    except ConfigError as error:
        _fail(f"invalid config {error.key}: {error}", EXIT_BAD_CONFIG)
    if broker_config.unknown_keys:
        logging.getLogger("strom.broker").warning(
            "these configs were supplied but are not used: %s",
            ", ".join(sorted(broker_config.unknown_keys)),
        )
    try:
        asyncio.run(run_broker(broker_config))
    except ConfigError as error:  # found while starting, e.g. an unreadable PEM file
        _fail(f"invalid config {error.key}: {error}", EXIT_BAD_CONFIG)
    except LogStorageError as error:
        _fail(f"cannot start: {error}", EXIT_STORAGE)
    except OSError as error:
        _fail(f"cannot start: {error}", EXIT_STORAGE)


def _load_properties(path: Path | None, overrides: list[str]) -> dict[str, str]:
    properties: dict[str, str] = {}
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ConfigError("--config", f"cannot read {path}: {error.strerror}") from None
        properties.update(parse_properties(text))
    for item in overrides:
        key, value = parse_override(item)
        properties[key] = value
    return properties


def _fail(message: str, code: int) -> None:
    typer.echo(f"strom: {message}", err=True)
    raise typer.Exit(code)
