"""Contexts in `config.toml`, and which URL, token, tenant and cluster are in effect.

A context names one control plane and the credentials used on it, like a kubectl context:

    current_context = "dev"

    [contexts.dev]
    url = "http://127.0.0.1:8080"
    token = "key-9x7abq4fk2m8.…"
    principal = "User:ten-4fq8k2m9x7ab.deployer"   # who the token was, at login
    cluster = "clu-4fq8k2m9x7ab"        # chosen with `strom cluster use`

The file lives in `$STROM_CONFIG_DIR`, else `$XDG_CONFIG_HOME/strom`, else `~/.config/strom`,
and is written with mode 0600 because it holds tokens. Precedence, highest first: a flag
(`--context`, `--tenant`, a command's `--cluster`), the environment (`STROM_CONTEXT`,
`STROM_URL`, `STROM_TOKEN`, `STROM_TENANT`, `STROM_CLUSTER`), then the context in the file.
Every value carries its source, which `strom -v` prints.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from strom.cli.errors import CliError, NotFound

CONFIG_FILE = "config.toml"
ENV_CONFIG_DIR = "STROM_CONFIG_DIR"
ENV_CONTEXT = "STROM_CONTEXT"
ENV_URL = "STROM_URL"
ENV_TOKEN = "STROM_TOKEN"
ENV_TENANT = "STROM_TENANT"
ENV_CLUSTER = "STROM_CLUSTER"
DEFAULT_CONTEXT = "default"


def config_dir(env: Mapping[str, str]) -> Path:
    """Where `config.toml` lives for this environment."""
    if env.get(ENV_CONFIG_DIR):
        return Path(env[ENV_CONFIG_DIR])
    if env.get("XDG_CONFIG_HOME"):
        return Path(env["XDG_CONFIG_HOME"]) / "strom"
    return Path.home() / ".config" / "strom"


@dataclass
class Config:
    """The contents of `config.toml`; `save()` writes them back."""

    path: Path
    current_context: str | None = None
    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Config:
        """The file's contexts; an empty config when it does not exist yet."""
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls(path)
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            raise CliError(f"cannot read {path}: {error}") from None
        contexts = document.get("contexts", {})
        if not isinstance(contexts, dict) or not all(
            isinstance(value, dict) for value in contexts.values()
        ):
            raise CliError(f"cannot read {path}: `contexts` must be a table of tables")
        current = document.get("current_context")
        return cls(path, current if isinstance(current, str) else None, contexts)

    def save(self) -> None:
        """Write the file (mode 0600 in a 0700 directory), replacing it atomically."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        document: dict[str, Any] = {}
        if self.current_context is not None:
            document["current_context"] = self.current_context
        document["contexts"] = self.contexts
        staging = self.path.with_name(f".{self.path.name}.tmp")
        descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(tomli_w.dumps(document))
        os.replace(staging, self.path)

    def context(self, name: str) -> dict[str, Any]:
        """The named context; `NotFound` when the file has none of that name."""
        if name not in self.contexts:
            raise NotFound(
                f"no context {name!r} in {self.path} (see `strom context list`, or "
                f"`strom --context {name} login` to create it)"
            )
        return self.contexts[name]

    def set_value(self, context: str, key: str, value: str | None) -> None:
        """Set (or, with None, remove) one value of a context, creating the context."""
        values = self.contexts.setdefault(context, {})
        if value is None:
            values.pop(key, None)
        else:
            values[key] = value


@dataclass(frozen=True, slots=True)
class Setting:
    """One value in effect and where it came from (`--cluster`, `env STROM_URL`, ...)."""

    value: str | None
    source: str

    def __bool__(self) -> bool:
        return bool(self.value)


UNSET = Setting(None, "not set")


@dataclass(frozen=True)
class Effective:
    """What one invocation uses: the context, then each value with its source."""

    config: Config
    context: Setting
    url: Setting
    token: Setting
    tenant: Setting
    cluster: Setting

    def in_context(self) -> dict[str, Any]:
        """The values stored in the context in effect (empty when there is none)."""
        name = self.context.value
        return self.config.contexts.get(name, {}) if name else {}


def resolve(
    config: Config,
    env: Mapping[str, str],
    *,
    context: str | None = None,
    tenant: str | None = None,
    new_context: bool = False,
) -> Effective:
    """The settings in effect for these flags and this environment.

    A context named by `--context` or `STROM_CONTEXT` must exist in the file unless
    `new_context` (for `strom login`, which creates it).
    """
    chosen = _choose_context(config, env, context)
    if chosen.value and chosen.value not in config.contexts and not new_context:
        config.context(chosen.value)  # raises NotFound with the hint
    stored = config.contexts.get(chosen.value or "", {})
    where = f"context {chosen.value!r} in {config.path}"

    def pick(key: str, flag_name: str | None, flag: str | None, env_name: str) -> Setting:
        if flag:
            return Setting(flag, flag_name or "flag")
        if env.get(env_name):
            return Setting(env[env_name], f"env {env_name}")
        value = stored.get(key)
        return Setting(str(value), where) if value else UNSET

    return Effective(
        config=config,
        context=chosen,
        url=pick("url", None, None, ENV_URL),
        token=pick("token", None, None, ENV_TOKEN),
        tenant=pick("tenant", "--tenant", tenant, ENV_TENANT),
        cluster=pick("cluster", None, None, ENV_CLUSTER),
    )


def _choose_context(config: Config, env: Mapping[str, str], flag: str | None) -> Setting:
    if flag:
        return Setting(flag, "--context")
    if env.get(ENV_CONTEXT):
        return Setting(env[ENV_CONTEXT], f"env {ENV_CONTEXT}")
    if config.current_context:
        return Setting(config.current_context, f"current_context in {config.path}")
    return UNSET
