"""The group coordinator as a domain object: real logs underneath, no sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from strom.broker.clock import ManualClock
from strom.broker.coordinator.errors import (
    FencedInstanceIdError,
    GroupIdNotFoundError,
    GroupSubscribedToTopicError,
    IllegalGenerationError,
    InconsistentGroupProtocolError,
    InvalidSessionTimeoutError,
    MemberIdRequiredError,
    NonEmptyGroupError,
    OffsetMetadataTooLargeError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)
from strom.broker.coordinator.group import GroupState
from strom.broker.coordinator.group_coordinator import GroupCoordinator, GroupSettings, JoinRequest
from strom.broker.coordinator.group_metadata_manager import OFFSETS_TOPIC, GroupMetadataManager
from strom.broker.coordinator.offset_records import CommittedOffset
from strom.broker.log.partition_log import PartitionLog
from strom.broker.topic_partition import TopicPartition
from tests.broker.log.log_config import SimpleLogConfig

PARTITIONS = 3
SETTINGS = GroupSettings(
    initial_rebalance_delay_ms=50,  # lets concurrent first joins share a generation
    min_session_timeout_ms=100,
    max_session_timeout_ms=60_000,
    offset_metadata_max_bytes=16,
    offsets_retention_ms=60_000,
)
TP = TopicPartition("orders", 0)


def _subscription(*topics: str) -> bytes:
    """Consumer protocol subscription v0: version, then an array of topic names."""
    body = len(topics).to_bytes(4, "big") + b"".join(
        len(t).to_bytes(2, "big") + t.encode() for t in topics
    )
    return b"\x00\x00" + body


class Harness:
    """A coordinator over real `__consumer_offsets` logs in a directory, leading every
    partition; `restart()` builds a new coordinator from what those logs hold. Appends
    raise `append_failure` while it is set, as a write the ISR did not take would."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.clock = ManualClock()
        self.logs: list[PartitionLog] = []
        self.append_failure: Exception | None = None
        self.coordinator = self._open()

    def _open(self) -> GroupCoordinator:
        for partition_log in self.logs:
            partition_log.close()
        self.logs = [
            PartitionLog.open(
                self.directory / f"{OFFSETS_TOPIC}-{p}",
                TopicPartition(OFFSETS_TOPIC, p),
                SimpleLogConfig(),
                self.clock,
            )
            for p in range(PARTITIONS)
        ]

        async def append(tp: TopicPartition, batch: bytes) -> None:
            if self.append_failure is not None:
                raise self.append_failure
            partition_log = self.logs[tp.partition]
            partition_log.append_as_leader(batch, 0)
            partition_log.update_high_watermark(partition_log.log_end_offset)

        metadata = GroupMetadataManager(PARTITIONS, append, self.clock)
        coordinator = GroupCoordinator(SETTINGS, metadata, self.clock)
        for partition_id, partition_log in enumerate(self.logs):
            coordinator.load_partition(partition_id, partition_log)
        return coordinator

    async def restart(self) -> GroupCoordinator:
        self.coordinator = self._open()
        await self.coordinator.wait_for_loading()
        return self.coordinator

    def join(self, member_id: str = "", **overrides: Any) -> Awaitable[Any]:
        request = JoinRequest(
            group_id=overrides.pop("group_id", "g"),
            member_id=member_id,
            group_instance_id=overrides.pop("group_instance_id", None),
            protocol_type=overrides.pop("protocol_type", "consumer"),
            protocols=overrides.pop("protocols", (("range", _subscription("orders")),)),
            session_timeout_ms=overrides.pop("session_timeout_ms", 10_000),
            rebalance_timeout_ms=overrides.pop("rebalance_timeout_ms", 10_000),
            client_id="client",
            client_host="/127.0.0.1",
            require_known_member_id=overrides.pop("require_known_member_id", False),
        )
        assert not overrides
        return self.coordinator.join(request)


def run(test: Callable[[Harness], Awaitable[None]], tmp_path: Path) -> None:
    async def main() -> None:
        harness = Harness(tmp_path)
        await harness.coordinator.wait_for_loading()
        await harness.coordinator.start()
        try:
            await asyncio.wait_for(test(harness), 20)
        finally:
            await harness.coordinator.stop()

    asyncio.run(main())


async def _stable_pair(h: Harness) -> tuple[Any, Any]:
    first, second = await asyncio.gather(h.join(), h.join())
    leader = first if first.leader_id == first.member_id else second
    follower = second if leader is first else first
    assignments = {leader.member_id: b"A", follower.member_id: b"B"}
    got = await asyncio.gather(
        h.coordinator.sync("g", leader.generation_id, leader.member_id, assignments),
        h.coordinator.sync("g", follower.generation_id, follower.member_id, {}),
    )
    assert got == [b"A", b"B"]
    return leader, follower


def test_first_join_asks_for_a_member_id_then_the_member_leads(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        with pytest.raises(MemberIdRequiredError) as required:
            await h.join(require_known_member_id=True)
        result = await h.join(required.value.member_id, require_known_member_id=True)
        assert result.member_id == required.value.member_id == result.leader_id
        assert result.generation_id == 1 and result.protocol_name == "range"
        assert [m[0] for m in result.members] == [result.member_id]

    run(scenario, tmp_path)


def test_two_members_share_a_generation_and_get_the_leaders_assignment(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        leader, follower = await _stable_pair(h)
        assert leader.generation_id == follower.generation_id == 1
        assert len(leader.members) == 2 and follower.members == ()
        assert h.coordinator.group("g").state is GroupState.STABLE

    run(scenario, tmp_path)


def test_protocol_is_the_one_every_member_supports(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        both = (("range", b""), ("roundrobin", b""))
        first, second = await asyncio.gather(
            h.join(protocols=both), h.join(protocols=(("roundrobin", b""),))
        )
        assert first.protocol_name == second.protocol_name == "roundrobin"
        with pytest.raises(InconsistentGroupProtocolError):
            await h.join(protocols=(("sticky", b""),))
        with pytest.raises(InconsistentGroupProtocolError):
            await h.join(protocol_type="connect", protocols=both)

    run(scenario, tmp_path)


def test_heartbeat_errors_follow_kafka(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        leader, follower = await _stable_pair(h)
        h.coordinator.heartbeat("g", 1, follower.member_id)
        with pytest.raises(IllegalGenerationError):
            h.coordinator.heartbeat("g", 0, follower.member_id)
        with pytest.raises(UnknownMemberIdError):
            h.coordinator.heartbeat("g", 1, "nobody")
        with pytest.raises(UnknownMemberIdError):
            h.coordinator.heartbeat("other", 1, follower.member_id)
        pending = asyncio.ensure_future(h.join(leader.member_id, protocols=(("range", b"x"),)))
        await asyncio.sleep(0)
        with pytest.raises(RebalanceInProgressError):
            h.coordinator.heartbeat("g", 1, follower.member_id)
        rejoined = await asyncio.gather(pending, h.join(follower.member_id))
        assert {r.generation_id for r in rejoined} == {2}

    run(scenario, tmp_path)


def test_session_timeout_expires_a_silent_member(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        leader, follower = await _stable_pair(h)
        h.clock.advance(5_000)
        h.coordinator.heartbeat("g", 1, leader.member_id)
        h.clock.advance(6_000)  # follower silent for 11 s > 10 s session timeout
        await asyncio.sleep(0.4)  # one expiry sweep
        group = h.coordinator.group("g")
        assert follower.member_id not in group.members
        assert group.state is GroupState.PREPARING_REBALANCE
        result = await h.join(leader.member_id)
        assert result.generation_id == 2 and [m[0] for m in result.members] == [leader.member_id]

    run(scenario, tmp_path)


def test_bad_session_timeout_is_refused(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        with pytest.raises(InvalidSessionTimeoutError):
            await h.join(session_timeout_ms=10)

    run(scenario, tmp_path)


def test_static_member_rejoining_replaces_its_old_incarnation(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        first = await h.join(group_instance_id="pod-0")
        again = await h.join(group_instance_id="pod-0")
        assert again.member_id != first.member_id
        assert list(h.coordinator.group("g").members) == [again.member_id]
        with pytest.raises(UnknownMemberIdError):
            h.coordinator.heartbeat("g", again.generation_id, first.member_id)

    run(scenario, tmp_path)


def test_leave_empties_the_group(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        leader, follower = await _stable_pair(h)
        outcomes = h.coordinator.leave("g", [(leader.member_id, None), ("ghost", None)])
        assert outcomes[0] is None and isinstance(outcomes[1], UnknownMemberIdError)
        follow_up = await h.join(follower.member_id)
        assert follow_up.generation_id == 2
        h.coordinator.leave("g", [(follower.member_id, None)])
        assert h.coordinator.group("g").state is GroupState.EMPTY

    run(scenario, tmp_path)


def test_offsets_are_checked_against_membership(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        leader, _ = await _stable_pair(h)
        value = CommittedOffset(42, -1, "", h.clock.time_ms())
        await h.coordinator.commit_offsets("g", 1, leader.member_id, {TP: value})
        assert h.coordinator.fetch_offsets("g") == {TP: value}
        with pytest.raises(IllegalGenerationError):
            await h.coordinator.commit_offsets("g", 7, leader.member_id, {TP: value})
        with pytest.raises(UnknownMemberIdError):
            await h.coordinator.commit_offsets("g", 1, "nobody", {TP: value})
        with pytest.raises(UnknownMemberIdError):  # a simple commit into an active group
            await h.coordinator.commit_offsets("g", -1, "", {TP: value})
        too_long = CommittedOffset(1, -1, "x" * 17, 0)
        with pytest.raises(OffsetMetadataTooLargeError):
            await h.coordinator.commit_offsets("g", 1, leader.member_id, {TP: too_long})
        with pytest.raises(NonEmptyGroupError):
            await h.coordinator.delete_group("g")
        outcomes = await h.coordinator.delete_offsets("g", [TP])
        assert isinstance(outcomes[TP], GroupSubscribedToTopicError)

    run(scenario, tmp_path)


def test_offsets_and_membership_survive_a_restart(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        leader, follower = await _stable_pair(h)
        await h.coordinator.commit_offsets(
            "g", 1, leader.member_id, {TP: CommittedOffset(7, 3, "m", 1)}
        )
        await h.coordinator.commit_offsets("simple", -1, "", {TP: CommittedOffset(9, -1, "", 2)})
        await h.coordinator.stop()
        restarted = await h.restart()
        await restarted.start()
        assert restarted.fetch_offsets("g") == {TP: CommittedOffset(7, 3, "m", 1)}
        assert restarted.fetch_offsets("simple")[TP].offset == 9
        group = restarted.group("g")
        assert group is not None and group.state is GroupState.STABLE
        # Members carry on in their generation without a rebalance.
        restarted.heartbeat("g", 1, follower.member_id)
        assignment = await restarted.sync("g", 1, follower.member_id, {})
        assert assignment == b"B"

    run(scenario, tmp_path)


def test_deleted_group_stays_deleted_after_a_restart(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        result = await h.join()
        await h.coordinator.sync("g", 1, result.member_id, {result.member_id: b"A"})
        await h.coordinator.commit_offsets(
            "g", 1, result.member_id, {TP: CommittedOffset(1, -1, "", 0)}
        )
        h.coordinator.leave("g", [(result.member_id, None)])
        await h.coordinator.delete_group("g")
        with pytest.raises(GroupIdNotFoundError):
            await h.coordinator.delete_group("g")
        await h.coordinator.stop()
        restarted = await h.restart()
        assert restarted.group("g") is None and restarted.fetch_offsets("g") == {}

    run(scenario, tmp_path)


def test_offsets_of_an_empty_group_expire_after_retention(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        result = await h.join()
        await h.coordinator.sync("g", 1, result.member_id, {})
        await h.coordinator.commit_offsets(
            "g", 1, result.member_id, {TP: CommittedOffset(1, -1, "", 0)}
        )
        await h.coordinator.commit_offsets(
            "simple", -1, "", {TP: CommittedOffset(5, -1, "", h.clock.time_ms())}
        )
        h.clock.advance(120_000)
        assert await h.coordinator.expire_offsets() == 1  # "g" is active: its offsets stay
        assert h.coordinator.fetch_offsets("simple") == {}
        h.coordinator.leave("g", [(result.member_id, None)])
        h.clock.advance(30_000)
        assert await h.coordinator.expire_offsets() == 0  # empty for 30 s only
        h.clock.advance(31_000)
        assert await h.coordinator.expire_offsets() == 1
        assert h.coordinator.fetch_offsets("g") == {}

    run(scenario, tmp_path)


def test_a_replaced_static_member_is_fenced(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        first = await h.join(group_instance_id="pod-0")
        again = await h.join(group_instance_id="pod-0")
        with pytest.raises(FencedInstanceIdError):
            h.coordinator.heartbeat("g", again.generation_id, first.member_id, "pod-0")
        with pytest.raises(FencedInstanceIdError):
            await h.coordinator.commit_offsets(
                "g",
                again.generation_id,
                first.member_id,
                {TP: CommittedOffset(1, -1, "", 0)},
                "pod-0",
            )
        h.coordinator.heartbeat("g", again.generation_id, again.member_id, "pod-0")

    run(scenario, tmp_path)


def test_join_without_a_protocol_type_or_protocols_is_inconsistent(tmp_path: Path) -> None:
    async def scenario(h: Harness) -> None:
        with pytest.raises(InconsistentGroupProtocolError):
            await h.join(protocol_type="")
        with pytest.raises(InconsistentGroupProtocolError):
            await h.join(protocols=())

    run(scenario, tmp_path)
