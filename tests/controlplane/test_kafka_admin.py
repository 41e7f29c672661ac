"""The control plane's Kafka admin door against a real broker (SASL_PLAINTEXT, ACLs on)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from strom.controlplane.cluster_credentials import MECHANISM
from strom.controlplane.kafka_admin import (
    AclEntry,
    ClusterConnection,
    ClusterUnavailable,
    ConfluentKafkaAdmin,
    CredentialNotFound,
    KafkaAdminError,
    RequestRejected,
    TopicAlreadyExists,
    UnknownTopic,
)
from tests.support.broker import BrokerProcess
from tests.support.ports import free_port

ADMIN, PASSWORD = "strom-controlplane", "admin-secret"
TIMEOUT_S = 10.0


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    process = BrokerProcess(tmp_path_factory.mktemp("kafka-admin"))
    process.overrides = {
        "listeners": f"SASL_PLAINTEXT://127.0.0.1:{process.port}",
        "strom.sasl.plain.users": f"{ADMIN}:{PASSWORD}",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": f"User:{ADMIN}",
        "auto.create.topics.enable": "false",
    }
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def admin(broker: BrokerProcess) -> ConfluentKafkaAdmin:
    return ConfluentKafkaAdmin(ClusterConnection((broker.bootstrap,), ADMIN, PASSWORD), TIMEOUT_S)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_topics_round_trip(admin: ConfluentKafkaAdmin) -> None:
    assert admin.describe_cluster().brokers == 1
    name = _name("orders")
    admin.create_topic(name, 2, None, {"retention.ms": "60000"}, validate_only=True)
    assert name not in {topic.name for topic in admin.list_topics()}
    admin.create_topic(name, 2, None, {"retention.ms": "60000"})
    described = admin.describe_topic(name)
    assert (described.partitions, described.replication_factor, described.internal) == (2, 1, False)
    assert described.topic_id and described.topic_id in {t.topic_id for t in admin.list_topics()}
    assert admin.topic_configs([name]) == {name: {"retention.ms": "60000"}}
    admin.create_partitions(name, 3)
    admin.alter_topic_configs(name, {"retention.ms": None, "cleanup.policy": "compact"})
    assert admin.describe_topic(name).partitions == 3
    assert admin.topic_configs([name]) == {name: {"cleanup.policy": "compact"}}
    admin.delete_topic(name)
    with pytest.raises(UnknownTopic):
        admin.describe_topic(name)


def test_kafka_errors_become_typed_errors(admin: ConfluentKafkaAdmin) -> None:
    name = _name("dupe")
    admin.create_topic(name, 1, None, {})
    with pytest.raises(TopicAlreadyExists):
        admin.create_topic(name, 1, None, {})
    with pytest.raises(RequestRejected) as rejected:
        admin.create_topic(_name("bad"), 1, None, {"no.such.config": "1"})
    assert rejected.value.error_name == "INVALID_CONFIG"
    with pytest.raises(RequestRejected):
        admin.create_partitions(name, 1)
    with pytest.raises(UnknownTopic):
        admin.delete_topic(_name("missing"))


def test_scram_credentials_are_written_described_and_deleted(admin: ConfluentKafkaAdmin) -> None:
    user = _name("ten-x.app")
    assert admin.scram_mechanisms(user) == frozenset()
    admin.upsert_scram_credential(user, "pw", MECHANISM)
    assert admin.scram_mechanisms(user) == {MECHANISM}
    admin.delete_scram_credential(user, MECHANISM)
    assert admin.scram_mechanisms(user) == frozenset()
    with pytest.raises(CredentialNotFound):
        admin.delete_scram_credential(user, MECHANISM)


def test_acls_are_created_described_and_deleted(admin: ConfluentKafkaAdmin) -> None:
    principal = f"User:{_name('ten-x.acl')}"
    entry = AclEntry(principal, "TOPIC", "orders.", "PREFIXED", "WRITE", "ALLOW")
    group = AclEntry(principal, "GROUP", "orders-app", "LITERAL", "READ", "ALLOW")
    admin.create_acls([entry, group])
    assert set(admin.describe_acls(principal)) == {entry, group}
    assert entry in admin.describe_acls()
    admin.delete_acls([entry])
    assert admin.describe_acls(principal) == [group]


def test_a_wrong_admin_password_fails_within_the_timeout(broker: BrokerProcess) -> None:
    # librdkafka reports the failed login to its error callback and the request times out.
    wrong = ConfluentKafkaAdmin(ClusterConnection((broker.bootstrap,), ADMIN, "wrong"), 1.0)
    started = time.monotonic()
    with pytest.raises(KafkaAdminError):
        wrong.describe_cluster()
    assert time.monotonic() - started < 5.0


def test_an_unreachable_cluster_answers_within_the_timeout() -> None:
    unreachable = ConfluentKafkaAdmin(
        ClusterConnection((f"127.0.0.1:{free_port()}",), ADMIN, PASSWORD), timeout_s=1.0
    )
    started = time.monotonic()
    with pytest.raises(KafkaAdminError) as raised:
        unreachable.describe_cluster()
    assert isinstance(raised.value, ClusterUnavailable)
    assert time.monotonic() - started < 5.0
