"""Broker registrations, heartbeats and sessions (Kafka's ClusterControlManager and
BrokerHeartbeatManager): who is in the cluster, who is fenced, and which records a
registration, a heartbeat or an expired session turns into.

A broker registers fenced with a new epoch; its heartbeats unfence it once it has caught
up with the metadata up to its registration. A broker that stops heartbeating for
`broker.session.timeout.ms` is fenced, and the partitions it led or was in sync for get
new leaders and ISRs. Sessions live in memory on the active controller only: a controller
that takes over gives every unfenced broker a full session before fencing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from strom.broker.clock import Clock
from strom.broker.controller.elections import (
    UncleanAllowed,
    elect_returning_leader,
    move_leaders_off,
)
from strom.broker.controller.errors import (
    BrokerIdNotRegisteredError,
    DuplicateBrokerRegistrationError,
    IneligibleReplicaError,
    StaleBrokerEpochError,
)
from strom.broker.controller.partition_changes import AlterPartition
from strom.broker.metadata.image import BrokerRegistration, MetadataImage
from strom.broker.metadata.records import (
    BrokerRegistrationChangeRecord,
    FenceBrokerRecord,
    MetadataRecord,
    RegisterBrokerRecord,
    UnfenceBrokerRecord,
    UnregisterBrokerRecord,
)

Endpoint = tuple[str, str, int, str]
"""(listener name, host, port, security protocol)"""

_NO_EPOCH = -1


@dataclass(frozen=True, slots=True)
class HeartbeatReply:
    is_caught_up: bool
    is_fenced: bool
    should_shut_down: bool


class ClusterMembership:
    """Until any broker registers, the local node (`node_id`, `rack`) stands for the
    cluster, so that a single broker works before it registers itself."""

    def __init__(
        self,
        image: MetadataImage,
        clock: Clock,
        session_timeout_ms: int,
        unclean_allowed: UncleanAllowed,
        node_id: int,
        rack: str | None = None,
    ) -> None:
        self._image = image
        self._node_id = node_id
        self._rack = rack
        self._clock = clock
        self._session_timeout_s = session_timeout_ms / 1000
        self._unclean_allowed = unclean_allowed
        self._last_contact: dict[int, float] = {}  # broker id → monotonic seconds

    @property
    def registered_brokers(self) -> tuple[int, ...]:
        return tuple(sorted(self._image.brokers)) if self._image.brokers else (self._node_id,)

    @property
    def live_brokers(self) -> tuple[int, ...]:
        """Registered and unfenced."""
        return self._image.unfenced_brokers if self._image.brokers else (self._node_id,)

    @property
    def active_brokers(self) -> tuple[int, ...]:
        """May lead and join ISRs: live and not in controlled shutdown."""
        return self._image.active_brokers if self._image.brokers else (self._node_id,)

    def racks(self) -> dict[int, str | None]:
        """Every active broker's rack."""
        if not self._image.brokers:
            return {self._node_id: self._rack}
        return {b: self._image.brokers[b].rack for b in self._image.active_brokers}

    # -- what the controller asks before committing -----------------------------------

    def registration(
        self,
        broker_id: int,
        incarnation_id: str,
        endpoints: Sequence[Endpoint],
        rack: str | None,
        broker_epoch: int,
    ) -> list[MetadataRecord]:
        """The records registering a broker process, fenced; refused while another
        incarnation of the same id holds a live session (a duplicate node.id). A fenced
        broker leads nothing, so what the id still led gets a new leader."""
        existing = self._image.brokers.get(broker_id)
        if (
            existing is not None
            and existing.incarnation_id != incarnation_id
            and self._has_session(broker_id)
        ):
            raise DuplicateBrokerRegistrationError(
                f"Another broker is registered with broker id {broker_id} "
                f"(incarnation {existing.incarnation_id}) and its session has not expired."
            )
        self._touch(broker_id)
        # First in its batch: the broker epoch is this record's offset.
        record = RegisterBrokerRecord(
            broker_id=broker_id,
            incarnation_id=incarnation_id,
            broker_epoch=broker_epoch,
            endpoints=tuple(
                (name, host, int(port), protocol) for name, host, port, protocol in endpoints
            ),
            rack=rack,
        )
        return [record, *self._leaders_off({broker_id})]

    def heartbeat(
        self,
        broker_id: int,
        broker_epoch: int,
        current_metadata_offset: int,
        want_fence: bool,
        want_shutdown: bool,
    ) -> list[MetadataRecord]:
        """The records one heartbeat leads to: unfencing a caught-up broker (and giving it
        the leaderless partitions it can lead), or fencing one that asks to be fenced or
        to shut down. Leadership moves off a broker before it goes, so once these records
        are committed it leads nothing and may shut down."""
        registration = self.current(broker_id, broker_epoch)
        self._touch(broker_id)
        if want_shutdown:
            # Controlled shutdown: leadership moves to in-sync replicas only, never to an
            # out-of-sync one, since the leader is alive and has every record.
            records: list[MetadataRecord] = []
            if not (registration.fenced and registration.in_controlled_shutdown):
                records.append(
                    BrokerRegistrationChangeRecord(
                        broker_id, broker_epoch, fenced=True, in_controlled_shutdown=True
                    )
                )
            return records + self._leaders_off({broker_id}, unclean=False)
        if registration.fenced:
            caught_up = current_metadata_offset >= registration.broker_epoch
            if want_fence or registration.in_controlled_shutdown or not caught_up:
                return []
            active = set(self.active_brokers)
            return [
                UnfenceBrokerRecord(broker_id, broker_epoch),
                *elect_returning_leader(self._image, broker_id, active, self._unclean_allowed),
            ]
        if want_fence:
            return [FenceBrokerRecord(broker_id, broker_epoch), *self._leaders_off({broker_id})]
        return []

    def heartbeat_reply(
        self, broker_id: int, current_metadata_offset: int, want_shutdown: bool
    ) -> HeartbeatReply:
        """The answer to a heartbeat, from the metadata once its records are committed."""
        registration = self._image.brokers[broker_id]
        shut_down = want_shutdown and registration.fenced and not self._leads_any(broker_id)
        if shut_down:
            self._last_contact.pop(broker_id, None)  # gone: its id is free again
        return HeartbeatReply(
            is_caught_up=current_metadata_offset >= registration.broker_epoch,
            is_fenced=registration.fenced,
            should_shut_down=shut_down,
        )

    def unregistration(self, broker_id: int) -> list[MetadataRecord]:
        """UnregisterBroker: the broker leaves the cluster; its partitions are re-elected."""
        registration = self._image.brokers.get(broker_id)
        if registration is None:
            raise BrokerIdNotRegisteredError(f"Broker {broker_id} is not registered.")
        self._last_contact.pop(broker_id, None)
        return [
            UnregisterBrokerRecord(broker_id, registration.broker_epoch),
            *self._leaders_off({broker_id}),
        ]

    def expired_sessions(self) -> list[MetadataRecord]:
        """Fence every unfenced broker whose last heartbeat is older than the session
        timeout, re-electing the partitions it led or was in sync for, in one change."""
        now = self._clock.monotonic()
        expired = []
        for registration in self._image.brokers.values():
            if registration.fenced:
                continue
            # A broker this controller has not heard from yet gets a full session.
            last = self._last_contact.setdefault(registration.broker_id, now)
            if now - last > self._session_timeout_s:
                expired.append(registration)
        if not expired:
            return []
        for registration in expired:
            self._last_contact.pop(registration.broker_id, None)
        fences: list[MetadataRecord] = [
            FenceBrokerRecord(r.broker_id, r.broker_epoch) for r in expired
        ]
        return fences + self._leaders_off({r.broker_id for r in expired})

    def check_alter_partition(self, request: AlterPartition) -> None:
        """AlterPartition's broker epochs: the leader's must be its current one, and a
        new ISR member's (when given) must be that of its current registration."""
        if request.broker_epoch != _NO_EPOCH:
            self.current(request.leader_id, request.broker_epoch)
        for replica, epoch in zip(request.new_isr, request.new_isr_broker_epochs, strict=False):
            registration = self._image.brokers.get(replica)
            if epoch != _NO_EPOCH and (registration is None or registration.broker_epoch != epoch):
                raise IneligibleReplicaError(
                    f"broker {replica} at epoch {epoch} is not its current registration"
                )

    def current(self, broker_id: int, broker_epoch: int) -> BrokerRegistration:
        """The broker's registration, if `broker_epoch` is its current epoch."""
        registration = self._image.brokers.get(broker_id)
        if registration is None:
            raise BrokerIdNotRegisteredError(f"Broker {broker_id} is not registered.")
        if registration.broker_epoch != broker_epoch:
            raise StaleBrokerEpochError(
                f"Broker {broker_id} epoch {broker_epoch} is not the current "
                f"{registration.broker_epoch}."
            )
        return registration

    # -- internals -----------------------------------------------------------------------

    def _leaders_off(self, leaving: set[int], unclean: bool = True) -> list[MetadataRecord]:
        allowed = self._unclean_allowed if unclean else _never
        return list(move_leaders_off(self._image, leaving, self.active_brokers, allowed))

    def _leads_any(self, broker_id: int) -> bool:
        return any(
            state.leader == broker_id
            for topic in self._image.topics_by_name.values()
            for state in topic.partitions.values()
        )

    def _has_session(self, broker_id: int) -> bool:
        last = self._last_contact.get(broker_id)
        return last is not None and self._clock.monotonic() - last <= self._session_timeout_s

    def _touch(self, broker_id: int) -> None:
        self._last_contact[broker_id] = self._clock.monotonic()


def _never(_topic: object) -> bool:
    return False
