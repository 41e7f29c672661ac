"""BrokerRegistration, BrokerHeartbeat, UnregisterBroker and AlterPartition on the wire,
against a real broker process, as another broker would send them."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from kio.schema.alter_partition.v3.request import BrokerState, PartitionData, TopicData
from kio.schema.broker_registration.v4.request import Listener
from kio.schema.create_topics.v7.request import CreatableTopic
from kio.schema.errors import ErrorCode

from strom.broker.handlers.response_builder import make
from tests.support.broker import BrokerProcess
from tests.support.kafka_wire import KafkaWireClient

API_VERSIONS, METADATA, CREATE_TOPICS = 18, 3, 19
ALTER_PARTITION, REGISTRATION, HEARTBEAT, UNREGISTER = 56, 62, 63, 64
_FAR_AHEAD = 1 << 40


def test_client_listeners_advertise_the_admin_apis_but_not_the_controller_ones(
    broker: BrokerProcess,
) -> None:
    with KafkaWireClient(broker.bootstrap) as client:
        response = client.request(
            API_VERSIONS, 3, client_software_name="strom-tests", client_software_version="1"
        )
    advertised = {api.api_key: (api.min_version, api.max_version) for api in response.api_keys}
    assert advertised[43] == (0, 2) and advertised[45] == (0, 0)
    assert advertised[46] == (0, 0) and advertised[64] == (0, 0)
    assert not {ALTER_PARTITION, REGISTRATION, HEARTBEAT} & set(advertised)


def test_a_broker_registers_heartbeats_and_is_unregistered(broker: BrokerProcess) -> None:
    with KafkaWireClient(broker.bootstrap) as client:
        registered = _register(client, 2, uuid.uuid4())
        assert registered.error_code == ErrorCode.none
        epoch = registered.broker_epoch
        beat = _heartbeat(client, 2, epoch)
        assert (beat.error_code, beat.is_caught_up, beat.is_fenced) == (ErrorCode.none, True, False)
        duplicate = _register(client, 2, uuid.uuid4())
        assert duplicate.error_code == ErrorCode.duplicate_broker_registration
        assert _heartbeat(client, 2, epoch + 1).error_code == ErrorCode.stale_broker_epoch
        assert client.request(UNREGISTER, 0, broker_id=2).error_code == ErrorCode.none
        gone = client.request(UNREGISTER, 0, broker_id=2)
        assert gone.error_code == ErrorCode.broker_id_not_registered
        assert _heartbeat(client, 2, epoch).error_code == ErrorCode.broker_id_not_registered


def test_a_registration_for_another_cluster_is_refused(broker: BrokerProcess) -> None:
    with KafkaWireClient(broker.bootstrap) as client:
        response = _register(client, 2, uuid.uuid4(), cluster_id="not-this-cluster")
    assert response.error_code == ErrorCode.inconsistent_cluster_id


def test_alter_partition_commits_an_isr_based_on_the_current_partition_epoch(
    broker: BrokerProcess,
) -> None:
    with KafkaWireClient(broker.bootstrap) as client:
        created = client.request(
            CREATE_TOPICS,
            7,
            topics=(
                make(
                    CreatableTopic,
                    name="isr",
                    num_partitions=1,
                    replication_factor=1,
                    assignments=(),
                    configs=(),
                ),
            ),
            timeout=datetime.timedelta(seconds=10),
            validate_only=False,
        )
        topic_id = created.topics[0].topic_id
        accepted = _alter_partition(client, topic_id, partition_epoch=0)
        assert accepted.error_code == ErrorCode.none
        (result,) = accepted.topics[0].partitions
        assert (result.error_code, result.leader_id, result.isr) == (ErrorCode.none, 1, (1,))
        assert result.partition_epoch == 1
        stale = _alter_partition(client, topic_id, partition_epoch=0).topics[0].partitions[0]
        assert stale.error_code == ErrorCode.invalid_update_version
        unknown = _alter_partition(client, uuid.uuid4(), partition_epoch=0).topics[0].partitions[0]
        assert unknown.error_code == ErrorCode.unknown_topic_id


def _register(
    client: KafkaWireClient, broker_id: int, incarnation: uuid.UUID, cluster_id: str | None = None
) -> Any:
    return client.request(
        REGISTRATION,
        4,
        broker_id=broker_id,
        cluster_id=cluster_id or _cluster_id(client),
        incarnation_id=incarnation,
        listeners=(
            make(Listener, name="PLAINTEXT", host="127.0.0.1", port=19092, security_protocol=0),
        ),
        features=(),
        rack=None,
    )


def _heartbeat(client: KafkaWireClient, broker_id: int, epoch: int) -> Any:
    return client.request(
        HEARTBEAT,
        1,
        broker_id=broker_id,
        broker_epoch=epoch,
        current_metadata_offset=_FAR_AHEAD,
        want_fence=False,
        want_shut_down=False,
    )


def _alter_partition(client: KafkaWireClient, topic_id: uuid.UUID, partition_epoch: int) -> Any:
    partition = make(
        PartitionData,
        partition_index=0,
        leader_epoch=0,
        new_isr_with_epochs=(make(BrokerState, broker_id=1, broker_epoch=-1),),
        partition_epoch=partition_epoch,
    )
    return client.request(
        ALTER_PARTITION,
        3,
        broker_id=1,
        broker_epoch=-1,
        topics=(TopicData(topic_id=topic_id, partitions=(partition,)),),
    )


def _cluster_id(client: KafkaWireClient) -> str:
    return str(
        client.request(
            METADATA,
            12,
            topics=(),
            allow_auto_topic_creation=False,
            include_topic_authorized_operations=False,
        ).cluster_id
    )
