"""The control plane in tests: databases (SQLite, PostgreSQL), an API helper, a real process."""

from __future__ import annotations

import functools
import os
import secrets
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from strom.controlplane.core.config import Settings
from strom.controlplane.core.runtime import Runtime
from tests.support.ports import free_port

with warnings.catch_warnings():
    # Starlette prefers httpx2 and warns when it finds httpx; both work the same here.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ADMIN_TOKEN = "test-admin-token"
ADMIN_HEADERS = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
POSTGRES_HOST = "127.0.0.1"
POSTGRES_PORT = 5432
POSTGRES_DATABASE = "test"
POSTGRES_USERS = ("postgres", "root")
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0

__all__ = ["TestClient"]


@functools.cache
def postgres_user() -> str | None:
    """A user the local PostgreSQL server lets in (trust auth), or None without a server."""
    for user in POSTGRES_USERS:
        try:
            with psycopg.connect(_dsn(user), connect_timeout=3):
                return user
        except psycopg.Error:
            continue
    return None


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A SQLAlchemy URL onto a fresh, empty schema, dropped afterwards."""
    user = postgres_user()
    assert user is not None, "check postgres_user() first"
    schema = f"strom_test_{secrets.token_hex(6)}"
    with psycopg.connect(_dsn(user), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    try:
        yield (
            f"postgresql+psycopg://{user}@{POSTGRES_HOST}:{POSTGRES_PORT}/{POSTGRES_DATABASE}"
            f"?options=-csearch_path%3D{schema}"
        )
    finally:
        with psycopg.connect(_dsn(user), autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )


def make_settings(data_dir: Path, database_url: str | None, **overrides: Any) -> Settings:
    """Settings for a test app: fixed admin token, cheap hashing, migrated on start, and no
    background reconciler (tests call `Api.reconcile()`)."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "admin_token": ADMIN_TOKEN,
        "migrate_on_start": True,
        "api_key_hash_time_cost": 1,
        "api_key_hash_memory_kib": 64,
        "reconcile_interval_seconds": 0,
        "cluster_key_confirm_timeout_seconds": 0.2,
        **overrides,
    }
    return Settings(**values)


@dataclass(frozen=True)
class TenantCredentials:
    """A tenant with one service account and one control-plane key."""

    tenant_id: str
    service_account_id: str
    api_key_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    """The test client plus the few calls most tests start with; asserts they succeed."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    @property
    def runtime(self) -> Runtime:
        """The app's runtime, for tests that look at the database directly."""
        runtime: Runtime = self.client.app.state.runtime  # type: ignore[attr-defined]
        return runtime

    def create_tenant(self, name: str, **limits: int) -> dict[str, Any]:
        spec: dict[str, Any] = {"name": name}
        if limits:
            spec["limits"] = limits
        return self._created("/api/v1/tenants", {"spec": spec}, ADMIN_HEADERS)

    def create_service_account(
        self, tenant_id: str, name: str, headers: Mapping[str, str] = ADMIN_HEADERS
    ) -> dict[str, Any]:
        return self._created(
            f"/api/v1/tenants/{tenant_id}/service-accounts", {"spec": {"name": name}}, headers
        )

    def create_api_key(
        self,
        tenant_id: str,
        service_account_id: str,
        headers: Mapping[str, str] = ADMIN_HEADERS,
        **spec: Any,
    ) -> dict[str, Any]:
        body = {"spec": {"service_account_id": service_account_id, **spec}}
        return self._created(f"/api/v1/tenants/{tenant_id}/api-keys", body, headers)

    def tenant_with_key(self, name: str, **limits: int) -> TenantCredentials:
        tenant = self.create_tenant(name, **limits)
        account = self.create_service_account(tenant["id"], f"{name}-deployer")
        key = self.create_api_key(tenant["id"], account["id"])
        return TenantCredentials(tenant["id"], account["id"], key["id"], key["token"])

    def create_cluster(
        self, tenant_id: str, name: str, headers: Mapping[str, str] = ADMIN_HEADERS, **spec: Any
    ) -> dict[str, Any]:
        """Start creating a cluster; the answer is its operation."""
        response = self.client.post(
            f"/api/v1/tenants/{tenant_id}/clusters",
            json={"spec": {"name": name, **spec}},
            headers=dict(headers),
        )
        assert response.status_code == 202, response.text
        operation: dict[str, Any] = response.json()
        return operation

    def reconcile(self) -> None:
        """One reconciler pass, on the app's own event loop."""
        portal = self.client.portal
        assert portal is not None, "use the TestClient as a context manager"
        portal.call(self.runtime.reconciler.reconcile_once)

    def ready_cluster(
        self, tenant_id: str, name: str, headers: Mapping[str, str] = ADMIN_HEADERS
    ) -> dict[str, Any]:
        """A cluster created and reconciled to READY (on an app whose backend is quick)."""
        operation = self.create_cluster(tenant_id, name, headers)
        self.reconcile()
        cluster_id = operation["spec"]["target_id"]
        response = self.client.get(
            f"/api/v1/tenants/{tenant_id}/clusters/{cluster_id}", headers=dict(headers)
        )
        cluster: dict[str, Any] = response.json()
        assert cluster["status"]["phase"] == "READY", cluster
        return cluster

    def wait_for_operation(
        self, operation_id: str, headers: Mapping[str, str], timeout_s: float
    ) -> dict[str, Any]:
        """Poll an operation until it is done; fails after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while True:
            response = self.client.get(f"/api/v1/operations/{operation_id}", headers=dict(headers))
            assert response.status_code == 200, response.text
            operation: dict[str, Any] = response.json()
            if operation["status"]["done"]:
                return operation
            assert time.monotonic() < deadline, f"operation not done in {timeout_s}s: {operation}"
            time.sleep(0.1)

    def _created(self, path: str, body: Any, headers: Mapping[str, str]) -> dict[str, Any]:
        response = self.client.post(path, json=body, headers=dict(headers))
        assert response.status_code == 201, response.text
        document: dict[str, Any] = response.json()
        return document


class ControlPlaneProcess:
    """`strom controlplane serve` as a real process on a free 127.0.0.1 port."""

    def __init__(self, data_dir: Path, *args: str, env: Mapping[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.args = args
        self.env = {**os.environ, **(env or {})}
        self.log_path = data_dir / "controlplane.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "strom.cli",
            "controlplane",
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--port",
            str(self.port),
            *self.args,
        ]

    def start(self) -> ControlPlaneProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log_file:
            self._process = subprocess.Popen(
                self.command(), stdout=log_file, stderr=subprocess.STDOUT, env=self.env
            )
        self._wait_until_healthy()
        return self

    def stop(self) -> int:
        """SIGTERM, then SIGKILL after the timeout; returns the exit code."""
        if self._process is None:
            return 0
        self._process.send_signal(signal.SIGTERM)
        try:
            return self._process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            return self._process.wait(timeout=STOP_TIMEOUT_S)
        finally:
            self._process = None

    def kill(self) -> None:
        """SIGKILL: the crash the restart-safety tests recover from."""
        if self._process is None:
            return
        self._process.kill()
        self._process.wait(timeout=STOP_TIMEOUT_S)
        self._process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _wait_until_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"control plane exited early:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"control plane not healthy after {START_TIMEOUT_S}s:\n{self.log()}")


@contextmanager
def running_controlplane(data_dir: Path, *args: str) -> Iterator[ControlPlaneProcess]:
    process = ControlPlaneProcess(data_dir, *args).start()
    try:
        yield process
    finally:
        process.stop()


def _dsn(user: str) -> str:
    return f"host={POSTGRES_HOST} port={POSTGRES_PORT} dbname={POSTGRES_DATABASE} user={user}"
