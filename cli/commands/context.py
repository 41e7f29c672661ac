"""`strom context list|use|current|delete`: the contexts saved in `config.toml`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from strom.cli import output
from strom.cli.errors import NotFound
from strom.cli.options import Output, examples
from strom.cli.session import Session

app = typer.Typer(help="Switch between saved control planes and credentials.", no_args_is_help=True)

COLUMNS: list[output.Column] = [
    ("CURRENT", lambda item: "*" if item["current"] else ""),
    ("NAME", "name"),
    ("URL", "url"),
    ("PRINCIPAL", "principal"),
    ("LOGGED IN", "logged_in"),
    ("TENANT", "tenant"),
    ("CLUSTER", "cluster"),
]

Name = Annotated[str, typer.Argument(help="A context name from `strom context list`.")]


@app.command("list", epilog=examples("strom context list", "strom context list -o json"))
def list_contexts(ctx: typer.Context, output_format: Output = output.OutputFormat.table) -> None:
    """The saved contexts; tokens are never shown."""
    config = Session.of(ctx).config
    contexts = [
        _describe(name, values, name == config.current_context)
        for name, values in sorted(config.contexts.items())
    ]
    output.show_list(contexts, COLUMNS, output_format, empty="No contexts: run `strom login`.")


@app.command("use", epilog=examples("strom context use prod"))
def use(ctx: typer.Context, name: Name) -> None:
    """Make a context the current one."""
    config = Session.of(ctx).config
    config.context(name)
    config.current_context = name
    config.save()
    output.message(f"Switched to context {name!r}.")


@app.command("current", epilog=examples("strom context current"))
def current(ctx: typer.Context) -> None:
    """Print the name of the current context (exit 3 when there is none)."""
    config = Session.of(ctx).config
    if config.current_context is None:
        raise NotFound(f"no current context in {config.path}: run `strom login`")
    output.message(config.current_context)


@app.command("delete", epilog=examples("strom context delete old-laptop"))
def delete(ctx: typer.Context, name: Name) -> None:
    """Remove a context and its saved token."""
    config = Session.of(ctx).config
    config.context(name)
    del config.contexts[name]
    if config.current_context == name:
        config.current_context = None
    config.save()
    output.message(f"Deleted context {name!r}.")


def _describe(name: str, values: dict[str, Any], is_current: bool) -> dict[str, Any]:
    return {
        "name": name,
        "current": is_current,
        "url": values.get("url"),
        "principal": values.get("principal"),
        "logged_in": bool(values.get("token")),
        "tenant": values.get("tenant"),
        "cluster": values.get("cluster"),
    }
