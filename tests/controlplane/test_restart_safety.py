"""Kill the control plane (SIGKILL) while it creates a cluster; the next one finishes the job.

The crash comes after the broker process was spawned and before the cluster was recorded
READY: the restarted control plane must adopt that broker (no second one), finish the
operation, and later delete the cluster leaving no process behind.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from strom.controlplane.provisioning.local import CONFIG_FILE, STATE_FILE, LocalBackend
from tests.support.controlplane import ADMIN_HEADERS, ADMIN_TOKEN, ControlPlaneProcess

WAIT_S = 60.0
ENV = {"STROM_ADMIN_TOKEN": ADMIN_TOKEN, "STROM_RECONCILE_INTERVAL_SECONDS": "0.5"}


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    data_dir = tmp_path / "controlplane"
    try:
        yield data_dir
    finally:
        LocalBackend(data_dir / "clusters").stop_all()


def _start(data_dir: Path) -> ControlPlaneProcess:
    return ControlPlaneProcess(data_dir, "--migrate", env=ENV).start()


def _wait_for(what: str, check: Any) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what} within {WAIT_S}s")


def _finished(client: httpx.Client, operation_id: str) -> dict[str, Any] | None:
    operation: dict[str, Any] = client.get(f"/api/v1/operations/{operation_id}").json()
    return operation if operation["status"]["done"] else None


def _brokers_of(config: Path) -> list[int]:
    """Pids of processes started with this cluster's config (Linux /proc)."""
    marker = str(config).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "cmdline").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
                if state != "Z":
                    pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def test_a_control_plane_killed_mid_creation_is_finished_by_the_next(data_dir: Path) -> None:
    first = _start(data_dir)
    try:
        client = httpx.Client(base_url=first.url, headers=ADMIN_HEADERS, timeout=10.0)
        tenant = client.post("/api/v1/tenants", json={"spec": {"name": "acme"}}).json()
        operation = client.post(
            f"/api/v1/tenants/{tenant['id']}/clusters", json={"spec": {"name": "dev"}}
        ).json()
        cluster_id = operation["spec"]["target_id"]
        state_file = data_dir / "clusters" / cluster_id / STATE_FILE
        spawned = _wait_for(
            "a broker spawned",
            lambda: state_file.exists() and json.loads(state_file.read_text()).get("pid"),
        )
    finally:
        first.kill()

    second = _start(data_dir)
    try:
        client = httpx.Client(base_url=second.url, headers=ADMIN_HEADERS, timeout=10.0)
        done = _wait_for("the operation done", lambda: _finished(client, operation["id"]))
        assert done["status"]["phase"] == "SUCCEEDED", done
        config = data_dir / "clusters" / cluster_id / CONFIG_FILE
        assert _brokers_of(config) == [spawned]  # adopted, not started twice
        clusters = client.get(f"/api/v1/tenants/{tenant['id']}/clusters").json()
        assert clusters["metadata"]["total_size"] == 1

        deletion = client.delete(f"/api/v1/tenants/{tenant['id']}/clusters/{cluster_id}").json()
        _wait_for("the deletion done", lambda: _finished(client, deletion["id"]))
        assert _brokers_of(config) == []
        assert not config.parent.exists()
    finally:
        second.stop()
