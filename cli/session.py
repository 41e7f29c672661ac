"""What one invocation of a tenant command talks to: control plane, tenant and cluster.

The root command puts a `Session` on the Typer context; commands ask it for the client, the
tenant (from `--tenant`, `STROM_TENANT`, the context, or the token's own tenant) and the
cluster (from `--cluster`, `STROM_CLUSTER`, or the context's `strom cluster use`), by id or
by name. With `-v` each value is printed once, with where it came from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import typer

from strom.cli import output
from strom.cli.client import API, ControlPlaneClient, Document
from strom.cli.errors import NotFound, Unauthorized, UsageError
from strom.cli.settings import Config, Effective, Setting, config_dir, resolve

TENANT_ID_PREFIX = "ten-"


@dataclass(frozen=True, slots=True)
class RootOptions:
    """The options given before the command: `strom [--context C] [--tenant T] [-v] ...`."""

    context: str | None = None
    tenant: str | None = None
    verbose: bool = False


@dataclass
class Session:
    options: RootOptions
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    _config: Config | None = None
    _effective: Effective | None = None
    _client: ControlPlaneClient | None = None
    _identity: Document | None = None
    _tenant_id: str | None = None
    _shown: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, ctx: typer.Context) -> Session:
        session = ctx.find_root().obj
        if not isinstance(session, Session):  # a command invoked without the root callback
            session = cls(RootOptions())
            ctx.find_root().obj = session
        return session

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = Config.load(config_dir(self.env) / "config.toml")
        return self._config

    def effective(self, *, new_context: bool = False) -> Effective:
        """The settings in effect (printed under `-v` the first time)."""
        if self._effective is None:
            self._effective = resolve(
                self.config,
                self.env,
                context=self.options.context,
                tenant=self.options.tenant,
                new_context=new_context,
            )
            effective = self._effective
            self.show("context", effective.context)
            self.show("url", effective.url)
            self.show("token", Setting(_masked(effective.token.value), effective.token.source))
        return self._effective

    def client(self) -> ControlPlaneClient:
        """A client for the URL and token in effect; fails when either is missing."""
        if self._client is None:
            effective = self.effective()
            if not effective.url:
                raise UsageError(
                    "no control plane URL: run `strom login --url URL`, or set STROM_URL"
                )
            if not effective.token:
                raise Unauthorized(
                    f"not logged in to {effective.url.value}: run `strom login`, or set STROM_TOKEN"
                )
            self._client = self.connect(str(effective.url.value), effective.token.value)
        return self._client

    def connect(self, url: str, token: str | None) -> ControlPlaneClient:
        """A client for an explicit URL and token (`strom login` checks them before saving)."""
        return ControlPlaneClient(url, token, trace=output.trace if self.options.verbose else None)

    def identity(self) -> Document:
        """`GET /api/v1/me`: who the token stands for."""
        if self._identity is None:
            self._identity = self.client().get(f"{API}/me")
        return self._identity

    def tenant_id(self) -> str:
        """The tenant the command acts in."""
        if self._tenant_id is None:
            chosen = self.effective().tenant
            if chosen:
                self._tenant_id = self.tenant_by_id_or_name(str(chosen.value))
                self.show("tenant", Setting(self._tenant_id, chosen.source))
            else:
                identity = self.identity()
                if identity.get("tenant_id") is None:
                    raise UsageError(
                        "the admin token acts in no tenant: pass `--tenant ID`, set "
                        "STROM_TENANT, or run `strom tenant use ID`"
                    )
                self._tenant_id = str(identity["tenant_id"])
                self.show("tenant", Setting(self._tenant_id, f"GET {API}/me"))
        return self._tenant_id

    def tenant_by_id_or_name(self, value: str) -> str:
        """A tenant id, looked up by name unless `value` is an id (`ten-…`)."""
        if value.startswith(TENANT_ID_PREFIX):
            return value
        return str(self.find(f"{API}/tenants", value, "tenant")["id"])

    def tenant_path(self, *parts: str) -> str:
        return "/".join((f"{API}/tenants/{self.tenant_id()}", *parts))

    def cluster_id(self, flag: str | None = None) -> str:
        """The cluster a topic or ACL command acts on: `--cluster`, env, or context."""
        chosen = Setting(flag, "--cluster") if flag else self.effective().cluster
        if not chosen:
            raise UsageError(
                "no cluster selected: pass `--cluster NAME`, set STROM_CLUSTER, or run "
                "`strom cluster use NAME`"
            )
        value = str(chosen.value)
        if chosen.source.startswith("context"):
            cluster_id = value  # `strom cluster use` stored an id it had checked
        else:
            cluster_id = self.find(self.tenant_path("clusters"), value, "cluster")["id"]
        self.show("cluster", Setting(cluster_id, chosen.source))
        return cluster_id

    def cluster_path(self, flag: str | None, *parts: str) -> str:
        return self.tenant_path("clusters", self.cluster_id(flag), *parts)

    def find(self, list_path: str, value: str, kind: str) -> Document:
        """The object of a list whose id or `spec.name` is `value`."""
        items = self.client().list_all(list_path)
        matches = [item for item in items if item.get("id") == value] or [
            item for item in items if _spec(item).get("name") == value
        ]
        if not matches:
            raise NotFound(f"no {kind} with name or id {value!r}")
        return matches[0]

    def show(self, name: str, setting: Setting) -> None:
        """Under `-v`, print a value in effect and its source (once per name)."""
        if self.options.verbose and name not in self._shown:
            self._shown.add(name)
            output.setting(name, setting.value or "(none)", setting.source)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _spec(item: Document) -> dict[str, Any]:
    spec = item.get("spec")
    return spec if isinstance(spec, dict) else {}


def _masked(token: str | None) -> str | None:
    """A token safe to print: an API key keeps its id, the secret never shows."""
    if not token:
        return None
    key_id, dot, _secret = token.partition(".")
    return f"{key_id}.****" if dot and key_id.startswith("key-") else "****"
