"""Fixtures for the tenant commands: a real control plane over HTTP, and `strom` in-process.

The control plane is the real app with the `local` backend (real broker processes), served
by uvicorn on a free port in a thread, so the CLI reaches it exactly as a user's would. Every
broker it started is stopped when the module's tests are done, whatever happened in them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from strom.controlplane.app import create_app
from strom.controlplane.provisioning.local import LocalBackend
from tests.cli.helpers import Strom
from tests.support.controlplane import ADMIN_TOKEN, make_settings

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class ServedControlPlane:
    url: str
    backend: LocalBackend
    admin_token: str = ADMIN_TOKEN


@pytest.fixture(scope="module")
def controlplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedControlPlane]:
    """The app on SQLite with the local backend and its background reconciler, on HTTP."""
    settings = make_settings(
        tmp_path_factory.mktemp("controlplane"),
        None,
        reconcile_interval_seconds=1.0,
        cluster_key_confirm_timeout_seconds=5.0,
    )
    app = create_app(settings)
    backend = app.state.runtime.provisioner
    assert isinstance(backend, LocalBackend)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="controlplane", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            assert thread.is_alive(), "the control plane stopped while starting"
            assert time.monotonic() < deadline, f"not serving after {START_TIMEOUT_S}s"
            time.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield ServedControlPlane(f"http://127.0.0.1:{port}", backend)
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT_S)
        backend.stop_all()  # no broker outlives the tests, whatever happened in them


@pytest.fixture
def strom(tmp_path: Path) -> Strom:
    return Strom(tmp_path / "strom-config")
