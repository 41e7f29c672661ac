"""What one running app owns: settings, engine, hasher, metrics, the admin token, and the
provisioning side (backend, Kafka admin clients, reconciler).

Held on `app.state.runtime` and handed to routes through `api.deps`; nothing is global, so
tests can run several apps side by side, each with its own backend.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import partial

from sqlalchemy import Engine

from strom.controlplane.core.config import Settings
from strom.controlplane.core.db import make_engine
from strom.controlplane.core.metrics import HttpMetrics
from strom.controlplane.core.security import SecretHasher, resolve_admin_token
from strom.controlplane.kafka_admin import ConfluentKafkaAdmin, KafkaAdminFactory, KafkaAdmins
from strom.controlplane.provisioning.base import Provisioner
from strom.controlplane.provisioning.local import LocalBackend
from strom.controlplane.provisioning.reconciler import Reconciler


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    hasher: SecretHasher
    provisioner: Provisioner
    kafka_admins: KafkaAdmins
    reconciler: Reconciler
    metrics: HttpMetrics = field(default_factory=HttpMetrics)
    admin_token: str | None = None
    _tenant_locks: dict[str, threading.Lock] = field(default_factory=dict)
    _locks_guard: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        provisioner: Provisioner | None = None,
        kafka_admin_factory: KafkaAdminFactory | None = None,
    ) -> Runtime:
        """Build without I/O: the engine connects lazily, the token is read on start, and
        the backend touches nothing until the reconciler asks it to."""
        engine = make_engine(settings.resolved_database_url)
        if provisioner is None:
            provisioner = LocalBackend(
                settings.clusters_dir, start_timeout_s=settings.broker_start_timeout_seconds
            )
        factory = kafka_admin_factory or partial(
            ConfluentKafkaAdmin, timeout_s=settings.kafka_admin_timeout_seconds
        )
        kafka_admins = KafkaAdmins(factory)
        return cls(
            settings=settings,
            engine=engine,
            hasher=SecretHasher(settings.api_key_hash_time_cost, settings.api_key_hash_memory_kib),
            provisioner=provisioner,
            kafka_admins=kafka_admins,
            reconciler=Reconciler(
                engine,
                provisioner,
                kafka_admins,
                interval_s=settings.reconcile_interval_seconds,
            ),
        )

    def start(self) -> None:
        """Resolve the admin token (reading or writing its file)."""
        self.admin_token = resolve_admin_token(self.settings)

    def stop(self) -> None:
        self.engine.dispose()

    def tenant_lock(self, tenant_id: str) -> threading.Lock:
        """Serialises a tenant's limit checks with the changes they allow, in this process."""
        with self._locks_guard:
            return self._tenant_locks.setdefault(tenant_id, threading.Lock())
