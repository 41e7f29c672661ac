"""A node refuses to start, with one readable line, when it cannot safely join: no shared
cluster id for a multi-voter quorum, or log directories formatted for another cluster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.ports import free_port

TIMEOUT_S = 30.0


def start(data_dir: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    port, controller_port = free_port(), free_port()
    overrides = {
        "node.id": "1",
        "process.roles": "broker,controller",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "controller.quorum.voters": (
            f"1@127.0.0.1:{controller_port},2@127.0.0.1:{free_port()},3@127.0.0.1:{free_port()}"
        ),
        "log.dirs": str(data_dir),
        **settings,
    }
    command = [sys.executable, "-m", "strom.cli", "broker", "start"]
    for key, value in overrides.items():
        command += ["--override", f"{key}={value}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)


def test_a_multi_voter_node_without_a_cluster_id_refuses_to_format(tmp_path: Path) -> None:
    result = start(tmp_path / "logs")
    assert result.returncode != 0
    assert "strom.cluster.id" in result.stderr
    assert "Traceback" not in result.stderr


def test_log_directories_of_another_cluster_are_refused(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "meta.properties").write_text(
        "cluster.id=b3RoZXItY2x1c3Rlci1pZA\ndirectory.id=x\nnode.id=1\nversion=1\n"
    )
    result = start(logs, **{"strom.cluster.id": "dGhpcy1jbHVzdGVyLWlkLg"})
    assert result.returncode != 0
    assert "b3RoZXItY2x1c3Rlci1pZA" in result.stderr and "strom.cluster.id" in result.stderr
    assert "Traceback" not in result.stderr
