"""Settings from `STROM_*` variables; the admin token from settings or a 0600 file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from strom.controlplane.core.config import Settings
from strom.controlplane.core.security import resolve_admin_token


def test_settings_come_from_strom_environment_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STROM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STROM_DATABASE_URL", "postgresql+psycopg://u@db:5432/strom")
    monkeypatch.setenv("STROM_ADMIN_TOKEN", "from-env")
    monkeypatch.setenv("STROM_HOST", "0.0.0.0")
    monkeypatch.setenv("STROM_PORT", "9000")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.resolved_database_url == "postgresql+psycopg://u@db:5432/strom"
    assert settings.admin_token is not None
    assert settings.admin_token.get_secret_value() == "from-env"
    assert "from-env" not in repr(settings)
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)


def test_the_default_database_is_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'strom.db'}"


def test_an_admin_token_is_generated_once_into_an_owner_only_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    token = resolve_admin_token(settings)
    path = settings.admin_token_path
    assert len(token) >= 40
    assert path.read_text().strip() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_admin_token(settings) == token  # stable across restarts


def test_the_admin_token_setting_wins_and_writes_no_file(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, admin_token="given")
    assert resolve_admin_token(settings) == "given"
    assert not settings.admin_token_path.exists()
