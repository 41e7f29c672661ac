"""The metadata log as the Raft quorum drives it: leader appends stamped with the epoch,
follower copies, truncation at a divergence, and committed payloads read back in order."""

from __future__ import annotations

from pathlib import Path

from strom.broker.clock import ManualClock
from strom.broker.metadata.records import ProducerIdsRecord, encode_record
from strom.broker.quorum.metadata_log import MetadataLog


def payload(n: int) -> bytes:
    return encode_record(ProducerIdsRecord(broker_id=1, next_producer_id=n))


def open_metadata_log(directory: Path) -> MetadataLog:
    log = MetadataLog(directory, ManualClock())
    assert list(log.open()) == []
    return log


def test_leader_appends_are_durable_and_carry_their_epoch(tmp_path: Path) -> None:
    log = open_metadata_log(tmp_path / "leader")
    assert log.append_as_leader([b"a", b"b"], epoch=3) == (0, 1)
    assert log.append_as_leader([b"c"], epoch=5) == (2, 2)
    assert log.flushed_end_offset == log.log_end_offset == 3
    assert log.latest_epoch == 5
    assert log.end_offset_for_epoch(3) == (3, 2)
    assert log.end_offset_for_epoch(4) == (3, 2)
    assert list(log.payloads_between(1, 3)) == [(1, b"b"), (2, b"c")]
    log.close()


def test_a_follower_copies_the_leaders_batches_and_truncates_at_a_divergence(
    tmp_path: Path,
) -> None:
    leader = open_metadata_log(tmp_path / "leader")
    follower = open_metadata_log(tmp_path / "follower")
    leader.append_as_leader([payload(1)], epoch=1)
    leader.append_as_leader([payload(2)], epoch=2)
    assert follower.append_as_follower(leader.read(0, 1 << 20)) == 2
    assert follower.flushed_end_offset == 2
    assert follower.end_offset_for_epoch(1) == (1, 1)
    follower.truncate_to(1)
    assert follower.log_end_offset == 1 and follower.latest_epoch == 1
    # Reopened, the follower still holds exactly what it kept.
    follower.close()
    reopened = MetadataLog(tmp_path / "follower", ManualClock())
    assert list(reopened.open()) == [(0, ProducerIdsRecord(broker_id=1, next_producer_id=1))]
    reopened.close()
    leader.close()
