"""The cluster reconciler: drives the backend toward the clusters' desired state in SQL.

One pass reconciles every cluster, each through the same idempotent chain: a cluster to delete
is deleted by the backend and its row removed; any other is created (which also re-adopts a
running broker or restarts a stopped one), scaled if its broker count differs, checked through
the Kafka admin protocol, and its status recorded. Pending cluster keys are confirmed on the
way. Because every step can be repeated, a control plane that died mid-pass simply runs the
pass again after restarting: operations left RUNNING are finished then.

The app's lifespan runs passes in the background (every `interval_s`, and at once when the
API changes a cluster); tests call `reconcile_once()` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from strom.controlplane import cluster_credentials
from strom.controlplane.kafka_admin import KafkaAdmin, KafkaAdminError, KafkaAdmins
from strom.controlplane.models.api_keys import ApiKeyRecord
from strom.controlplane.models.base import utcnow
from strom.controlplane.models.clusters import ClusterRecord
from strom.controlplane.models.operations import OperationPhase, OperationRecord, OperationType
from strom.controlplane.models.service_accounts import ServiceAccountRecord, kafka_username
from strom.controlplane.provisioning.base import (
    AdminCredential,
    BackendPhase,
    ClusterSpec,
    ClusterState,
    Provisioner,
    ProvisioningError,
)

MAX_BACKOFF_S = 300.0
_log = logging.getLogger("strom.controlplane.reconciler")


class Reconciler:
    """Owns the background reconcile task; `start()` and `stop()` bracket it."""

    def __init__(
        self,
        engine: Engine,
        provisioner: Provisioner,
        kafka_admins: KafkaAdmins,
        *,
        interval_s: float,
    ) -> None:
        self._engine = engine
        self._provisioner = provisioner
        self._admins = kafka_admins
        self._interval_s = interval_s
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._failures: dict[str, int] = {}
        self._not_before: dict[str, float] = {}

    async def start(self) -> None:
        """Run passes in the background, unless the interval is 0."""
        if self._interval_s <= 0 or self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="strom-reconciler")

    async def stop(self) -> None:
        task, self._task, self._loop = self._task, None, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def wake(self) -> None:
        """Start a pass now (callable from any thread, e.g. a route after its commit)."""
        loop, event = self._loop, self._wake
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)

    async def reconcile_once(self, *, respect_backoff: bool = False) -> None:
        """One pass over every cluster."""
        cluster_ids = await asyncio.to_thread(self._cluster_ids)
        await asyncio.gather(
            *(self.reconcile_cluster(cid, respect_backoff=respect_backoff) for cid in cluster_ids)
        )

    async def reconcile_cluster(self, cluster_id: str, *, respect_backoff: bool = False) -> None:
        lock = self._locks.setdefault(cluster_id, asyncio.Lock())
        async with lock:
            try:
                await self._reconcile(cluster_id, respect_backoff)
            except Exception:
                _log.exception("reconciling %s failed", cluster_id)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            try:
                await self.reconcile_once(respect_backoff=True)
            except Exception:
                _log.exception("reconcile pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval_s)
            self._wake.clear()

    async def _reconcile(self, cluster_id: str, respect_backoff: bool) -> None:
        cluster = await asyncio.to_thread(self._begin, cluster_id)
        if cluster is None:
            self._locks.pop(cluster_id, None)
        elif cluster.deletion_requested_at is not None:
            await self._delete(cluster_id)
        elif not respect_backoff or time.monotonic() >= self._not_before.get(cluster_id, 0.0):
            await self._converge(cluster)

    async def _delete(self, cluster_id: str) -> None:
        try:
            await self._provisioner.delete(cluster_id)
        except ProvisioningError as error:
            message = f"deleting the cluster failed, will retry: {error}"
            await asyncio.to_thread(self._record_message, cluster_id, message)
            return
        self._admins.forget(cluster_id)
        await asyncio.to_thread(self._remove, cluster_id)

    async def _converge(self, cluster: ClusterRecord) -> None:
        """Run the cluster as its spec says, check it answers, and record what was found."""
        spec = ClusterSpec(
            cluster.id,
            cluster.plan,
            cluster.brokers,
            AdminCredential(cluster.admin_username, cluster.admin_password),
        )
        try:
            state = await self._run_as_specified(spec)
        except ProvisioningError as error:
            self._back_off(cluster.id)
            await asyncio.to_thread(self._record_failure, cluster.id, str(error))
            return
        bootstrap = list(state.bootstrap_servers)
        admin = self._admins.get(cluster.id, cluster.admin_connection(bootstrap))
        try:
            partitions = await asyncio.to_thread(_check_and_count, admin)
            await asyncio.to_thread(self._confirm_keys, cluster.id, admin)
        except KafkaAdminError as error:
            await asyncio.to_thread(self._record_unanswered, cluster.id, str(error))
            return
        self._failures.pop(cluster.id, None)
        self._not_before.pop(cluster.id, None)
        await asyncio.to_thread(
            self._record_ready, cluster.id, cluster.generation, bootstrap, partitions
        )

    async def _run_as_specified(self, spec: ClusterSpec) -> ClusterState:
        """Create (or re-adopt, or restart) and scale; the state once every broker runs."""
        await self._provisioner.create(spec)
        state = await self._provisioner.status(spec.cluster_id)
        if state.phase is BackendPhase.RUNNING and state.brokers != spec.brokers:
            await self._provisioner.scale(spec)
            state = await self._provisioner.status(spec.cluster_id)
        if state.phase is not BackendPhase.RUNNING:
            raise ProvisioningError(state.message or f"the cluster is {state.phase.lower()}")
        return state

    def _back_off(self, cluster_id: str) -> None:
        failures = self._failures.get(cluster_id, 0) + 1
        self._failures[cluster_id] = failures
        delay = min(MAX_BACKOFF_S, max(self._interval_s, 1.0) * 2**failures)
        self._not_before[cluster_id] = time.monotonic() + delay

    # -- SQL (each in its own short transaction, run in a thread) ------------------------------

    def _cluster_ids(self) -> list[str]:
        with Session(self._engine) as session:
            return list(session.exec(select(ClusterRecord.id).order_by(ClusterRecord.id)))

    def _begin(self, cluster_id: str) -> ClusterRecord | None:
        """The cluster as desired now; its waiting operations are marked RUNNING."""
        with Session(self._engine, expire_on_commit=False) as session:
            cluster = session.get(ClusterRecord, cluster_id)
            if cluster is not None:
                session.exec(
                    update(OperationRecord)
                    .where(col(OperationRecord.target_id) == cluster_id)
                    .where(col(OperationRecord.phase) == "PENDING")
                    .values(phase="RUNNING", updated_at=utcnow())
                )
                session.commit()
            return cluster

    def _record_ready(
        self, cluster_id: str, generation: int, bootstrap: list[str], partitions: int
    ) -> None:
        with Session(self._engine) as session:
            cluster = session.get(ClusterRecord, cluster_id)
            if cluster is None:
                return
            changed = (
                cluster.phase != "READY"
                or cluster.bootstrap_servers != bootstrap
                or cluster.message is not None
                or cluster.observed_generation != generation
            )
            if changed:
                cluster.touch()
            cluster.phase = "READY"
            cluster.bootstrap_servers = bootstrap
            cluster.message = None
            cluster.observed_generation = generation
            cluster.partitions = partitions
            session.add(cluster)
            _finish(session, cluster_id, "CREATE_CLUSTER", "SUCCEEDED", "The cluster is READY.")
            session.commit()

    def _record_failure(self, cluster_id: str, message: str) -> None:
        _log.warning("cluster %s failed: %s", cluster_id, message)
        with Session(self._engine) as session:
            cluster = session.get(ClusterRecord, cluster_id)
            if cluster is None:
                return
            cluster.phase = "FAILED"
            cluster.message = message[:1000]
            cluster.touch()
            session.add(cluster)
            _finish(session, cluster_id, "CREATE_CLUSTER", "FAILED", message)
            session.commit()

    def _record_message(self, cluster_id: str, message: str) -> None:
        _log.warning("cluster %s: %s", cluster_id, message)
        with Session(self._engine) as session:
            cluster = session.get(ClusterRecord, cluster_id)
            if cluster is None:
                return
            cluster.message = message[:1000]
            cluster.touch()
            session.add(cluster)
            session.commit()

    def _record_unanswered(self, cluster_id: str, message: str) -> None:
        """The brokers run but the admin protocol does not answer (yet)."""
        with Session(self._engine) as session:
            cluster = session.get(ClusterRecord, cluster_id)
            if cluster is None:
                return
            if cluster.phase == "READY":
                cluster.phase = "FAILED"
            cluster.message = f"the cluster does not answer: {message}"[:1000]
            cluster.touch()
            session.add(cluster)
            session.commit()

    def _remove(self, cluster_id: str) -> None:
        with Session(self._engine) as session:
            cluster = session.get(ClusterRecord, cluster_id)
            _finish(session, cluster_id, "CREATE_CLUSTER", "CANCELLED", "The cluster was deleted.")
            _finish(session, cluster_id, "DELETE_CLUSTER", "SUCCEEDED", "The cluster is deleted.")
            if cluster is not None:
                session.delete(cluster)  # its cluster keys go with it (ON DELETE CASCADE)
            session.commit()
        self._failures.pop(cluster_id, None)
        self._not_before.pop(cluster_id, None)

    def _confirm_keys(self, cluster_id: str, admin: KafkaAdmin) -> None:
        """Mark PENDING cluster keys ACTIVE once the broker describes their credential."""
        with Session(self._engine) as session:
            pending = session.exec(
                select(ApiKeyRecord, ServiceAccountRecord)
                .join(
                    ServiceAccountRecord,
                    col(ServiceAccountRecord.id) == col(ApiKeyRecord.service_account_id),
                )
                .where(col(ApiKeyRecord.cluster_id) == cluster_id)
                .where(col(ApiKeyRecord.confirmed_at).is_(None))
                .where(col(ApiKeyRecord.revoked_at).is_(None))
            ).all()
            for key, account in pending:
                username = kafka_username(key.tenant_id, account.name)
                if cluster_credentials.confirmed(admin, username):
                    key.confirmed_at = utcnow()
                    key.touch()
                    session.add(key)
            session.commit()


def _check_and_count(admin: KafkaAdmin) -> int:
    """Ask the cluster to describe itself; the partitions of its (non-internal) topics."""
    admin.describe_cluster()
    return sum(topic.partitions for topic in admin.list_topics() if not topic.internal)


def _finish(
    session: Session, cluster_id: str, kind: OperationType, phase: OperationPhase, message: str
) -> None:
    """Finish the cluster's unfinished operations of `kind`."""
    operations = session.exec(
        select(OperationRecord)
        .where(col(OperationRecord.target_id) == cluster_id)
        .where(col(OperationRecord.type) == kind)
        .where(col(OperationRecord.phase).in_(("PENDING", "RUNNING")))
    ).all()
    for operation in operations:
        operation.finish(phase, message)
        session.add(operation)
