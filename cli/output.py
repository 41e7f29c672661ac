"""Everything the tenant commands print: tables for people, JSON or YAML for scripts.

Results go to stdout; notes, warnings, errors, progress and `-v` diagnostics go to stderr, so
`strom topic list -o json | jq` always reads clean JSON. `-o json|yaml` prints the API's
objects exactly as it returned them (a list command prints the list's `data`), so field names
are the API's and stay stable.

rich and PyYAML are imported when first used: every `strom` process loads this module,
including the often-spawned `strom broker start`, which prints none of this.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

# A table column: its header and the dotted path of the value (`status.phase`) or a function.
Column = tuple[str, str | Callable[[Mapping[str, Any]], Any]]
Update = Callable[[str], None]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


def show_list(
    items: Sequence[Mapping[str, Any]],
    columns: Sequence[Column],
    output: OutputFormat,
    *,
    empty: str = "Nothing to show.",
) -> None:
    """A list: one row per object, or the objects themselves as JSON/YAML."""
    if output is not OutputFormat.table:
        show_data(list(items), output)
        return
    if not items:
        note(empty)
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, highlight=False, pad_edge=False)
    for index, (header, _) in enumerate(columns):
        table.add_column(header, no_wrap=index == 0, overflow="fold")
    for item in items:
        table.add_row(*(Text(_cell(_value(item, path))) for _, path in columns))
    _console().print(table)


def show_object(item: Mapping[str, Any], output: OutputFormat) -> None:
    """One object: its fields as `path  value` lines, or the object as JSON/YAML."""
    if output is not OutputFormat.table:
        show_data(item, output)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, show_header=False, highlight=False, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for path, value in _flatten(item):
        table.add_row(Text(path), Text(_cell(value)))
    _console().print(table)


def show_data(data: Any, output: OutputFormat) -> None:
    """Data as JSON or YAML (a table format prints JSON: data has no columns)."""
    if output is OutputFormat.yaml:
        import yaml

        typer.echo(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), nl=False)
    else:
        typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def record(data: Mapping[str, Any], output: OutputFormat) -> None:
    """One consumed record: its value for people; a JSON line or a YAML document otherwise."""
    if output is OutputFormat.json:
        typer.echo(json.dumps(data, ensure_ascii=False))
    elif output is OutputFormat.yaml:
        typer.echo("---", nl=True)
        show_data(dict(data), output)
    else:
        typer.echo(data.get("value") or "")


def message(text: str) -> None:
    """A result line for people (stdout)."""
    typer.echo(text)


def note(text: str) -> None:
    """Information beside the result (stderr)."""
    typer.echo(text, err=True)


def warning(text: str) -> None:
    typer.echo(f"warning: {text}", err=True)


def error(text: str) -> None:
    """The one line an expected failure prints."""
    typer.echo(f"strom: {' '.join(text.split())}", err=True)


def ask_secret(label: str) -> str:
    """Prompt on the terminal without echoing what is typed."""
    answer: str = typer.prompt(label, hide_input=True, err=True)
    return answer


def setting(name: str, value: str, source: str) -> None:
    """A `-v` line: a value in effect and where it came from."""
    typer.echo(f"* {name}: {value}  (from {source})", err=True)


class LogLines(logging.Handler):
    """Log records (librdkafka's, under `-v`) as `-v` lines on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        typer.echo(f"* {record.name}: {record.getMessage()}", err=True)


def trace(method: str, path: str, status: int) -> None:
    """A `-v` line per API call."""
    typer.echo(f"* {method} {path} -> {status}", err=True)


@contextmanager
def progress(title: str) -> Iterator[Update]:
    """A spinner with the time elapsed on a terminal; elsewhere one stderr line per change."""
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, highlight=False)
    if console.is_terminal:
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(title)
            yield lambda text: bar.update(task, description=f"{title}: {text}")
        return
    last: list[str] = []

    def update(text: str) -> None:
        if not last or last[0] != text:
            note(f"{title}: {text}")
            last[:] = [text]

    yield update


def _console() -> Console:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=False)


def _value(item: Mapping[str, Any], path: str | Callable[[Mapping[str, Any]], Any]) -> Any:
    if callable(path):
        return path(item)
    value: Any = item
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={_cell(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_cell(item) for item in value)
    return str(value)


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and value:
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, value
