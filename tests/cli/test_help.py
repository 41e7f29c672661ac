"""Every tenant command documents itself with examples in `--help`."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from strom.cli.main import app
from tests.cli.helpers import Strom

PLATFORM_GROUPS = {"broker", "controlplane", "operator"}


def _tenant_commands() -> list[tuple[str, ...]]:
    root: Any = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = []
    for name, command in root.commands.items():
        if name in PLATFORM_GROUPS:
            continue
        if hasattr(command, "commands"):  # a group
            paths += [(name, sub) for sub in command.commands]
        else:
            paths.append((name,))
    return paths


@pytest.mark.parametrize("path", _tenant_commands(), ids=" ".join)
def test_help_shows_examples(strom: Strom, path: tuple[str, ...]) -> None:
    result = strom(*path, "--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Examples" in result.stdout
    assert f"strom {' '.join(path)}" in result.stdout.split("Examples", 1)[1]
