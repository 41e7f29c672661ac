"""The control plane's one typed settings object, read from `STROM_*` environment variables.

Every setting has a default that runs on a laptop: a SQLite file under the data directory and
an admin token generated on first start. Production overrides them with the environment (for
example `STROM_DATABASE_URL=postgresql+psycopg://...` and `STROM_ADMIN_TOKEN`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DATABASE_FILE = "strom.db"
ADMIN_TOKEN_FILE = "admin-token"
CLUSTERS_DIR = "clusters"


class Settings(BaseSettings):
    """Settings of one control-plane process (`STROM_<NAME>` for each field)."""

    model_config = SettingsConfigDict(env_prefix="STROM_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".strom/controlplane"),
        description="Holds the default SQLite database and the generated admin token.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///<data_dir>/strom.db. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/db.",
    )
    admin_token: SecretStr | None = Field(
        default=None,
        description="Bearer token of the platform admin; generated into <data_dir>/admin-token "
        "(mode 0600) on first start when unset.",
    )
    host: str = Field(default="127.0.0.1", description="Address `serve` listens on.")
    port: int = Field(default=8080, ge=0, le=65535, description="Port `serve` listens on.")
    migrate_on_start: bool = Field(
        default=False,
        description="Upgrade the database schema to the newest migration on start "
        "instead of refusing to start on an old schema.",
    )
    max_request_bytes: int = Field(
        default=1024 * 1024, gt=0, description="Larger request bodies answer 413."
    )
    api_key_hash_time_cost: int = Field(
        default=3, ge=1, description="argon2id passes when hashing API key secrets."
    )
    api_key_hash_memory_kib: int = Field(
        default=64 * 1024, ge=64, description="argon2id memory (KiB) when hashing API key secrets."
    )
    provisioning_backend: Literal["local"] = Field(
        default="local",
        description="Where clusters run: `local` starts broker processes on this machine.",
    )
    reconcile_interval_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How often the reconciler checks every cluster (API changes wake it at "
        "once); 0 turns the background reconciler off.",
    )
    kafka_admin_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Bound on each Kafka admin request to a cluster."
    )
    cluster_key_confirm_timeout_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long creating a cluster key waits for the broker to confirm its "
        "credential before answering it PENDING (the reconciler confirms it later).",
    )
    broker_start_timeout_seconds: float = Field(
        default=30.0, gt=0, description="How long a local broker may take to start listening."
    )

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / DATABASE_FILE}"

    @property
    def admin_token_path(self) -> Path:
        return self.data_dir / ADMIN_TOKEN_FILE

    @property
    def clusters_dir(self) -> Path:
        """Where the `local` backend keeps each cluster's config, logs and data."""
        return self.data_dir / CLUSTERS_DIR
