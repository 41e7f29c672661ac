"""The `local` backend with real broker processes: start, re-adopt, restart, delete."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from strom.controlplane.kafka_admin import ClusterConnection, ConfluentKafkaAdmin
from strom.controlplane.provisioning.base import (
    AdminCredential,
    BackendPhase,
    ClusterSpec,
    ProvisioningError,
    UnsupportedChange,
)
from strom.controlplane.provisioning.local import CONFIG_FILE, STATE_FILE, LocalBackend

ADMIN = AdminCredential("strom-controlplane", "local-admin-secret")
SPEC = ClusterSpec("clu-localtest", "dev", 1, ADMIN)
TIMEOUT_S = 10.0


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[LocalBackend]:
    backend = LocalBackend(tmp_path / "clusters", start_timeout_s=30.0, stop_timeout_s=10.0)
    try:
        yield backend
    finally:
        backend.stop_all()  # also when a test failed half-way


def _pid(backend: LocalBackend, cluster_id: str) -> int:
    state = json.loads((backend.directory(cluster_id) / STATE_FILE).read_text())
    return int(state["pid"])


def _admin(bootstrap: tuple[str, ...]) -> ConfluentKafkaAdmin:
    return ConfluentKafkaAdmin(
        ClusterConnection(bootstrap, ADMIN.username, ADMIN.password), TIMEOUT_S
    )


def _gone(pid: int) -> bool:
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat_line.rpartition(")")[2].split()[0] == "Z"


def test_a_cluster_is_started_adopted_restarted_and_deleted(
    backend: LocalBackend, tmp_path: Path
) -> None:
    asyncio.run(backend.create(SPEC))
    state = asyncio.run(backend.status(SPEC.cluster_id))
    assert state.phase is BackendPhase.RUNNING and state.brokers == 1
    (bootstrap,) = state.bootstrap_servers
    assert bootstrap.startswith("127.0.0.1:")
    config = backend.directory(SPEC.cluster_id) / CONFIG_FILE
    assert stat.S_IMODE(config.stat().st_mode) == 0o600  # it holds the admin password
    assert "listeners=SASL_PLAINTEXT://127.0.0.1:" in config.read_text()
    _admin(state.bootstrap_servers).create_topic("kept", 1, None, {})
    first_pid = _pid(backend, SPEC.cluster_id)

    # A restarted control plane (a new backend object) adopts the running broker.
    restarted = LocalBackend(backend.root)
    assert asyncio.run(restarted.status(SPEC.cluster_id)).phase is BackendPhase.RUNNING
    asyncio.run(restarted.create(SPEC))
    assert _pid(restarted, SPEC.cluster_id) == first_pid

    # A broker that died is started again on the same port, with its data.
    os.kill(first_pid, signal.SIGKILL)
    deadline = time.monotonic() + TIMEOUT_S
    while not _gone(first_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert asyncio.run(restarted.status(SPEC.cluster_id)).phase is BackendPhase.STOPPED
    asyncio.run(restarted.create(SPEC))
    again = asyncio.run(restarted.status(SPEC.cluster_id))
    assert again.bootstrap_servers == (bootstrap,)
    second_pid = _pid(restarted, SPEC.cluster_id)
    assert second_pid != first_pid
    assert "kept" in {topic.name for topic in _admin(again.bootstrap_servers).list_topics()}

    asyncio.run(restarted.delete(SPEC.cluster_id))
    assert _gone(second_pid)
    assert not backend.directory(SPEC.cluster_id).exists()
    assert asyncio.run(restarted.status(SPEC.cluster_id)).phase is BackendPhase.ABSENT
    asyncio.run(restarted.delete(SPEC.cluster_id))  # deleting twice is fine


def test_a_broker_that_cannot_start_fails_with_its_log(backend: LocalBackend) -> None:
    broken = ClusterSpec("clu-broken", "dev", 1, AdminCredential("admin", "has,a-comma"))
    with pytest.raises(ProvisioningError) as raised:
        asyncio.run(backend.create(broken))
    assert "exited on start" in str(raised.value)
    assert "strom.sasl.plain.users" in str(raised.value)


def test_a_relative_data_dir_gives_brokers_absolute_paths() -> None:
    # Brokers run in their cluster's directory, so a relative path would point elsewhere.
    assert LocalBackend(Path(".strom/controlplane/clusters")).root.is_absolute()


def test_more_than_one_broker_is_not_supported(backend: LocalBackend) -> None:
    with pytest.raises(UnsupportedChange):
        asyncio.run(backend.create(ClusterSpec("clu-three", "dev", 3, ADMIN)))
    assert not backend.directory("clu-three").exists()
