"""ElectLeaders and partition reassignments against a real single broker, through
kafka-python's and confluent-kafka's admin clients."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import kafka.errors as errors
import pytest
from confluent_kafka import ElectionType
from confluent_kafka import TopicPartition as ConfluentTopicPartition
from confluent_kafka.admin import AdminClient
from kafka import KafkaAdminClient, TopicPartition
from kafka.admin import NewTopic
from kio.schema.errors import ErrorCode

from tests.support.broker import BrokerProcess
from tests.support.kafka_wire import KafkaWireClient

TIMEOUT_S = 10.0
TIMEOUT_MS = int(TIMEOUT_S * 1000)
ELECT_LEADERS = 43


@pytest.fixture(scope="module")
def admin(shared_broker: BrokerProcess) -> Iterator[KafkaAdminClient]:
    client = KafkaAdminClient(
        bootstrap_servers=shared_broker.bootstrap, request_timeout_ms=TIMEOUT_MS
    )
    yield client
    client.close()


@pytest.fixture
def topic(admin: KafkaAdminClient) -> Iterator[str]:
    name = f"moves-{uuid.uuid4().hex[:8]}"
    admin.create_topics([NewTopic(name, 2, 1)], timeout_ms=TIMEOUT_MS)
    yield name
    admin.delete_topics([name], timeout_ms=TIMEOUT_MS)


def test_a_preferred_election_on_one_broker_is_not_needed(
    admin: KafkaAdminClient, topic: str
) -> None:
    response = admin.elect_leaders(0, {topic: [0, 1]}, raise_errors=False)
    results = {
        (result.topic, p.partition_id): p.error_code
        for result in response.replica_election_results
        for p in result.partition_result
    }
    not_needed = errors.ElectionNotNeededError.errno
    assert results == {(topic, 0): not_needed, (topic, 1): not_needed}


def test_confluent_elect_leaders_reports_election_not_needed(
    shared_broker: BrokerProcess, topic: str
) -> None:
    client = AdminClient({"bootstrap.servers": shared_broker.bootstrap})
    wanted = ConfluentTopicPartition(topic, 0)
    future = client.elect_leaders(ElectionType.PREFERRED, [wanted])
    results = future.result(TIMEOUT_S)
    (error,) = results.values()
    assert error is not None and error.name() == "ELECTION_NOT_NEEDED"


def test_electing_every_partition_lists_only_the_partitions_that_needed_it(
    shared_broker: BrokerProcess, topic: str
) -> None:
    with KafkaWireClient(shared_broker.bootstrap) as client:
        response = client.request(ELECT_LEADERS, 2, election_type=0, topic_partitions=None)
    assert response.error_code == ErrorCode.none
    assert response.replica_election_results == ()


def test_reassigning_onto_an_unknown_broker_is_refused(admin: KafkaAdminClient, topic: str) -> None:
    results = admin.alter_partition_reassignments(
        {TopicPartition(topic, 0): [1, 99], TopicPartition(topic, 1): [1]}
    )
    assert results == {
        TopicPartition(topic, 0): errors.InvalidReplicationAssignmentError,
        TopicPartition(topic, 1): None,
    }
    assert admin.list_partition_reassignments() == {}


def test_cancelling_without_a_reassignment_in_progress_is_an_error(
    admin: KafkaAdminClient, topic: str
) -> None:
    results = admin.alter_partition_reassignments({TopicPartition(topic, 0): None})
    assert results == {TopicPartition(topic, 0): errors.NoReassignmentInProgressError}


def test_listing_reassignments_of_named_partitions_on_an_idle_cluster_is_empty(
    admin: KafkaAdminClient, topic: str
) -> None:
    assert admin.list_partition_reassignments([TopicPartition(topic, 0)]) == {}
