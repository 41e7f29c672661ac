"""Bad group requests get Kafka's error codes and never hurt the coordinator."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from kio.schema.errors import ErrorCode
from kio.schema.join_group.v5.request import JoinGroupRequestProtocol
from kio.schema.offset_commit.v8.request import (
    OffsetCommitRequestPartition,
    OffsetCommitRequestTopic,
)
from kio.schema.offset_fetch.v7.request import OffsetFetchRequestTopic

from tests.support.broker import BrokerProcess, running_broker
from tests.support.kafka_wire import KafkaWireClient

OFFSET_COMMIT, OFFSET_FETCH, JOIN_GROUP, HEARTBEAT, SYNC_GROUP = 8, 9, 11, 12, 14
SECONDS = datetime.timedelta(seconds=10)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    overrides = {"group.initial.rebalance.delay.ms": "0"}
    with running_broker(tmp_path_factory.mktemp("groups"), overrides) as process:
        yield process


def _join(client: KafkaWireClient, group: str, metadata: bytes, protocol_type: str = "consumer"):
    """JoinGroup v5, answering MEMBER_ID_REQUIRED by rejoining with the given id."""
    member_id = ""
    for _ in range(2):
        response = client.request(
            JOIN_GROUP,
            5,
            group_id=group,
            session_timeout=SECONDS,
            rebalance_timeout=SECONDS,
            member_id=member_id,
            group_instance_id=None,
            protocol_type=protocol_type,
            protocols=(JoinGroupRequestProtocol(name="range", metadata=metadata),),
        )
        if response.error_code != ErrorCode.member_id_required:
            return response
        member_id = response.member_id
    return response


def _commit(
    client: KafkaWireClient, group: str, topic: str, generation: int = -1, member: str = ""
):
    response = client.request(
        OFFSET_COMMIT,
        8,
        group_id=group,
        generation_id_or_member_epoch=generation,
        member_id=member,
        group_instance_id=None,
        topics=(
            OffsetCommitRequestTopic(
                name=topic,
                partitions=(
                    OffsetCommitRequestPartition(
                        partition_index=0,
                        committed_offset=5,
                        committed_leader_epoch=-1,
                        committed_metadata="",
                    ),
                ),
            ),
        ),
    )
    return response.topics[0].partitions[0].error_code


def test_oversized_member_metadata_is_served_and_the_group_keeps_working(
    broker: BrokerProcess,
) -> None:
    with KafkaWireClient(broker.bootstrap) as client:
        joined = _join(client, "big", b"x" * (2 * 1024 * 1024))
        assert joined.error_code == ErrorCode.none
        synced = client.request(
            SYNC_GROUP,
            3,
            group_id="big",
            generation_id=joined.generation_id,
            member_id=joined.member_id,
            group_instance_id=None,
            assignments=(),
        )
        assert synced.error_code == ErrorCode.none
        beat = client.request(
            HEARTBEAT,
            3,
            group_id="big",
            generation_id=joined.generation_id,
            member_id=joined.member_id,
            group_instance_id=None,
        )
        assert beat.error_code == ErrorCode.none
    assert broker.is_running()


def test_join_with_another_protocol_type_is_inconsistent(broker: BrokerProcess) -> None:
    with KafkaWireClient(broker.bootstrap) as client:
        assert _join(client, "typed", b"").error_code == ErrorCode.none
        assert _join(client, "typed", b"", "connect").error_code == (
            ErrorCode.inconsistent_group_protocol
        )
        assert _join(client, "untyped", b"", "").error_code == (
            ErrorCode.inconsistent_group_protocol
        )


def test_commit_for_a_missing_topic_is_refused_and_stores_nothing(broker: BrokerProcess) -> None:
    with KafkaWireClient(broker.bootstrap) as client:
        assert _commit(client, "lost", "no-such-topic") == ErrorCode.unknown_topic_or_partition
        fetched = client.request(
            OFFSET_FETCH,
            7,
            group_id="lost",
            topics=(OffsetFetchRequestTopic(name="no-such-topic", partition_indexes=(0,)),),
            require_stable=False,
        )
        assert fetched.topics[0].partitions[0].committed_offset == -1


def test_heartbeat_and_commit_from_unknown_members_are_refused(broker: BrokerProcess) -> None:
    with KafkaWireClient(broker.bootstrap) as client:
        joined = _join(client, "strict", b"")
        beat = client.request(
            HEARTBEAT,
            3,
            group_id="strict",
            generation_id=joined.generation_id,
            member_id="impostor",
            group_instance_id=None,
        )
        assert beat.error_code == ErrorCode.unknown_member_id
        stale = client.request(
            HEARTBEAT,
            3,
            group_id="strict",
            generation_id=joined.generation_id + 5,
            member_id=joined.member_id,
            group_instance_id=None,
        )
        assert stale.error_code == ErrorCode.illegal_generation
        assert _commit(client, "strict", "__consumer_offsets", 99, joined.member_id) == (
            ErrorCode.illegal_generation
        )
