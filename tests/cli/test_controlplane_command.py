"""`strom controlplane serve|migrate|openapi` as a user runs them: real processes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.controlplane import ControlPlaneProcess, running_controlplane

TIMEOUT_S = 60


def _strom(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "strom.cli", "controlplane", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def test_serve_with_migrate_answers_healthz_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    process = ControlPlaneProcess(tmp_path, "--migrate").start()
    try:
        assert httpx.get(f"{process.url}/healthz", timeout=5).json() == {"status": "ok"}
        assert httpx.get(f"{process.url}/readyz", timeout=5).status_code == 200
        token = (tmp_path / "admin-token").read_text().strip()
        me = httpx.get(
            f"{process.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert me.json()["admin"] is True
    finally:
        # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status says why.
        assert process.stop() in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in process.log()
    assert "admin token in" in process.log()


def test_serve_refuses_an_unmigrated_database_and_says_how_to_migrate(tmp_path: Path) -> None:
    result = _strom("serve", "--data-dir", str(tmp_path), "--port", "0")
    assert result.returncode == 1
    assert "strom controlplane migrate" in result.stderr
    assert "--migrate" in result.stderr


def test_migrate_then_serve_without_migrate(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'cp.db'}"
    migrated = _strom("migrate", "--database-url", database)
    assert migrated.returncode == 0, migrated.stderr
    assert "database at revision" in migrated.stdout
    with running_controlplane(tmp_path / "data", "--database-url", database) as process:
        assert httpx.get(f"{process.url}/readyz", timeout=5).status_code == 200
    emptied = _strom("migrate", "--database-url", database, "--revision", "base")
    assert emptied.returncode == 0 and "revision base" in emptied.stdout


def test_bad_settings_exit_2_naming_the_setting(tmp_path: Path) -> None:
    result = _strom("serve", "--data-dir", str(tmp_path), "--port", "70000")
    assert result.returncode == 2
    assert "port" in result.stderr


def test_openapi_prints_the_document() -> None:
    result = _strom("openapi")
    assert result.returncode == 0
    assert json.loads(result.stdout)["info"]["title"] == "Strom control plane"
