"""`strom login`, `strom logout`, `strom whoami`: credentials of the context in effect."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from strom.cli import output
from strom.cli.client import API
from strom.cli.errors import UsageError
from strom.cli.options import Output, examples
from strom.cli.session import Session
from strom.cli.settings import DEFAULT_CONTEXT, ENV_TOKEN, ENV_URL


def login(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            "--url", help="The control plane, e.g. http://127.0.0.1:8080 (default: the context's)."
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            help="An API key token `<key-id>.<secret>` or the admin token. Prompted for when "
            "stdin is a terminal; otherwise read from stdin's first line.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check a token against the control plane and save it in the context in effect.

    The context is `--context NAME` (created if new), else the current one, else `default`;
    it becomes the current context.
    """
    session = Session.of(ctx)
    effective = session.effective(new_context=True)
    name = effective.context.value or DEFAULT_CONTEXT
    target = url or effective.url.value
    if not target:
        raise UsageError("no control plane URL: pass `--url URL`")
    secret = token or _read_token()
    with session.connect(target, secret) as client:
        identity = client.get(f"{API}/me")
    config = session.config
    stored = config.contexts.get(name, {})
    principal = identity["principal"]
    if (stored.get("url"), stored.get("principal")) != (target, principal):
        stored = {}  # a selected cluster, tenant or key means nothing to someone else
    config.contexts[name] = {**stored, "url": target, "token": secret, "principal": principal}
    config.current_context = name
    config.save()
    tenant = f" in tenant {identity['tenant_id']}" if identity.get("tenant_id") else ""
    output.message(f"Logged in to {target} as {principal}{tenant}.")
    output.note(f"Saved as context {name!r} in {config.path}.")
    for variable in (ENV_URL, ENV_TOKEN):
        if session.env.get(variable):
            output.warning(f"{variable} is set and overrides the saved context")


LOGIN_EPILOG = examples(
    "strom login --url http://127.0.0.1:8080",
    "strom --context prod login --url https://strom.example.com --token key-abc.s3cr3t",
    "echo $TOKEN | strom login --url http://127.0.0.1:8080",
)


def logout(ctx: typer.Context) -> None:
    """Forget the token of the context in effect (the key itself stays valid on the server)."""
    session = Session.of(ctx)
    name = session.effective().context.value
    if not name:
        raise UsageError("no context to log out of (see `strom context list`)")
    config = session.config
    config.context(name).pop("token", None)
    config.save()
    output.message(f"Logged out of context {name!r}.")
    output.note("To revoke the key itself, delete it: `strom api-key delete KEY_ID`.")


LOGOUT_EPILOG = examples("strom logout", "strom --context prod logout")


def whoami(ctx: typer.Context, output_format: Output = output.OutputFormat.table) -> None:
    """Who the token in effect stands for (`GET /api/v1/me`), on which control plane."""
    session = Session.of(ctx)
    identity = session.identity()
    if output_format is not output.OutputFormat.table:
        output.show_data(identity, output_format)
        return
    effective = session.effective()
    output.show_object(
        {**identity, "url": effective.url.value, "context": effective.context.value},
        output_format,
    )


WHOAMI_EPILOG = examples("strom whoami", "strom whoami -o json")


def register(app: typer.Typer) -> None:
    """Add the three commands at the top level of `app`."""
    app.command("login", epilog=LOGIN_EPILOG)(login)
    app.command("logout", epilog=LOGOUT_EPILOG)(logout)
    app.command("whoami", epilog=WHOAMI_EPILOG)(whoami)


def _read_token() -> str:
    typed = output.ask_secret("Token") if sys.stdin.isatty() else sys.stdin.readline()
    token = typed.strip()
    if not token:
        raise UsageError("no token: pass `--token`, type it at the prompt, or pipe it on stdin")
    return token
