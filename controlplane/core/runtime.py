"""What one running app owns: settings, engine, hasher, metrics, the admin token.

Held on `app.state.runtime` and handed to routes through `api.deps`; nothing is global, so
tests can run several apps side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from strom.controlplane.core.config import Settings
from strom.controlplane.core.db import make_engine
from strom.controlplane.core.metrics import HttpMetrics
from strom.controlplane.core.security import SecretHasher, resolve_admin_token


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    hasher: SecretHasher
    metrics: HttpMetrics = field(default_factory=HttpMetrics)
    admin_token: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        """Build without I/O: the engine connects lazily, the token is read on start."""
        return cls(
            settings=settings,
            engine=make_engine(settings.resolved_database_url),
            hasher=SecretHasher(settings.api_key_hash_time_cost, settings.api_key_hash_memory_kib),
        )

    def start(self) -> None:
        """Resolve the admin token (reading or writing its file)."""
        self.admin_token = resolve_admin_token(self.settings)

    def stop(self) -> None:
        self.engine.dispose()
