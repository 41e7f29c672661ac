"""Kafka's authorization, as confluent-kafka sees it over SASL_PLAINTEXT (PLAIN).

The matrix runs every action once per kind of principal: one with the exact LITERAL ACL,
one with a PREFIXED ACL, one whose ALLOW is overridden by a DENY, one without any ACL (another
principal holds one on the resource) and the super user. Each case has its own principal and
resource names, so the cases share one broker without seeing each other's ACLs.
"""

from __future__ import annotations

import datetime
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    OffsetSpec,
    ResourcePatternType,
    ResourceType,
)
from kio.schema.create_acls.v3.request import AclCreation
from kio.schema.delete_records.v2.request import DeleteRecordsPartition, DeleteRecordsTopic
from kio.schema.list_offsets.v7.request import ListOffsetsPartition, ListOffsetsTopic

from tests.support.sasl_broker import SaslBroker

TIMEOUT_S = 10.0
CLUSTER = "kafka-cluster"
ADMIN = "admin"
LITERAL, PREFIXED = ResourcePatternType.LITERAL, ResourcePatternType.PREFIXED
ALLOW, DENY = AclPermissionType.ALLOW, AclPermissionType.DENY
TOPIC_DENIED = KafkaError.TOPIC_AUTHORIZATION_FAILED
GROUP_DENIED = KafkaError.GROUP_AUTHORIZATION_FAILED
CLUSTER_DENIED = KafkaError.CLUSTER_AUTHORIZATION_FAILED
OK = KafkaError.NO_ERROR
LIST_OFFSETS, DELETE_RECORDS, DESCRIBE_ACLS, CREATE_ACLS = 2, 21, 29, 30
LATEST = -1

KINDS = ("literal", "prefixed", "deny", "none", "super")
EXTRA_USERS = ("reader", "configurer", "owner", "blocked", "anyone-a", "anyone-b", "wild")


class AclBroker(SaslBroker):
    """A SASL broker with an authorizer, whose super user sets up each case."""

    def __init__(self, directory: Path, users: list[str], **overrides: str) -> None:
        super().__init__(
            directory,
            {user: f"{user}-secret" for user in [ADMIN, *users]},
            {
                "sasl.enabled.mechanisms": "PLAIN",
                "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "super.users": f"User:{ADMIN}",
                "group.initial.rebalance.delay.ms": "0",
                **overrides,
            },
        )
        self._admin: AdminClient | None = None

    @property
    def admin(self) -> AdminClient:
        """The super user's admin client."""
        if self._admin is None:
            self._admin = AdminClient(self.settings(ADMIN))
        return self._admin

    def start(self) -> AclBroker:
        super().start()
        self._admin = None
        return self

    def grant(self, *bindings: AclBinding) -> None:
        for future in self.admin.create_acls(list(bindings)).values():
            future.result(TIMEOUT_S)

    def create_topic(self, topic: str, records: int = 0) -> None:
        self.admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(TIMEOUT_S)
        if records:
            producer = Producer(self.settings(ADMIN))
            for index in range(records):
                producer.produce(topic, f"record-{index}".encode())
            assert producer.flush(TIMEOUT_S) == 0

    def topics(self) -> set[str]:
        return set(self.admin.list_topics(timeout=TIMEOUT_S).topics)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AclBroker]:
    users = [_user(action.name, kind) for action in ACTIONS for kind in KINDS[:-1]]
    started = AclBroker(tmp_path_factory.mktemp("authz"), users + list(EXTRA_USERS)).start()
    try:
        yield started
    finally:
        started.stop()


def acl(
    resource_type: ResourceType,
    name: str,
    user: str,
    operation: AclOperation,
    permission: AclPermissionType = ALLOW,
    pattern: ResourcePatternType = LITERAL,
) -> AclBinding:
    principal = user if ":" in user else f"User:{user}"
    return AclBinding(resource_type, name, pattern, principal, "*", operation, permission)


def unique(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:8]}-"


def error_code(call: Callable[[], Any]) -> int:
    """The Kafka error code a confluent-kafka admin future fails with, or NO_ERROR."""
    try:
        call()
    except KafkaException as failure:
        return int(failure.args[0].code())
    return OK


# -- the actions of the matrix --------------------------------------------------------------------


@dataclass(frozen=True)
class Need:
    """One ACL an action needs: the operation on the case's topic, group or the cluster."""

    resource_type: ResourceType
    operation: AclOperation


@dataclass(frozen=True)
class Case:
    broker: AclBroker
    user: str
    prefix: str

    @property
    def topic(self) -> str:
        return f"{self.prefix}topic"

    @property
    def group(self) -> str:
        return f"{self.prefix}group"

    @property
    def settings(self) -> dict[str, Any]:
        return self.broker.settings(self.user)

    def names(self, need: Need) -> tuple[str, str]:
        """The LITERAL name and the PREFIXED prefix an ACL for `need` uses."""
        if need.resource_type == ResourceType.BROKER:
            return CLUSTER, CLUSTER
        exact = self.group if need.resource_type == ResourceType.GROUP else self.topic
        return exact, self.prefix


def produce(case: Case) -> int:
    reports: list[KafkaError | None] = []
    producer = Producer({**case.settings, "message.timeout.ms": 5000})
    producer.produce(case.topic, b"matrix", on_delivery=lambda error, _: reports.append(error))
    assert producer.flush(TIMEOUT_S) == 0
    (error,) = reports
    return OK if error is None else int(error.code())


def consume(case: Case) -> int:
    consumer = Consumer(
        {
            **case.settings,
            "group.id": case.group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([case.topic])
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(0.2)
            if message is None:
                continue
            if message.error() is not None:
                return int(message.error().code())
            assert message.offset() == 0
            consumer.commit(message=message, asynchronous=False)
            (committed,) = consumer.committed([TopicPartition(case.topic, 0)], timeout=TIMEOUT_S)
            assert committed.offset == 1
            return OK
    finally:
        consumer.close()
    raise AssertionError("the consumer got neither a record nor an error")


def create_topic(case: Case) -> int:
    client = AdminClient(case.settings)  # kept alive: futures fail once it is freed
    futures = client.create_topics([NewTopic(case.topic, 1, 1)])
    code = error_code(lambda: futures[case.topic].result(TIMEOUT_S))
    assert (case.topic in case.broker.topics()) == (code == OK)
    return code


def delete_topic(case: Case) -> int:
    client = AdminClient(case.settings)
    futures = client.delete_topics([case.topic])
    code = error_code(lambda: futures[case.topic].result(TIMEOUT_S))
    assert (case.topic not in case.broker.topics()) == (code == OK)
    return code


def describe_configs(case: Case) -> int:
    resource = ConfigResource(ResourceType.TOPIC, case.topic)
    client = AdminClient(case.settings)
    future = client.describe_configs([resource])[resource]
    code = error_code(lambda: future.result(TIMEOUT_S))
    if code == OK:
        assert future.result()["cleanup.policy"].value == "delete"
    return code


def describe_broker_configs(case: Case) -> int:
    resource = ConfigResource(ResourceType.BROKER, "1")
    client = AdminClient(case.settings)
    future = client.describe_configs([resource])[resource]
    code = error_code(lambda: future.result(TIMEOUT_S))
    if code == OK:
        assert future.result()["node.id"].value == "1"
    return code


def alter_configs(case: Case) -> int:
    entry = ConfigEntry("retention.ms", "3600000", incremental_operation=AlterConfigOpType.SET)
    resource = ConfigResource(ResourceType.TOPIC, case.topic, incremental_configs=[entry])
    client = AdminClient(case.settings)
    future = client.incremental_alter_configs([resource])[resource]
    code = error_code(lambda: future.result(TIMEOUT_S))
    described = ConfigResource(ResourceType.TOPIC, case.topic)
    configs = case.broker.admin.describe_configs([described])[described].result(TIMEOUT_S)
    assert (configs["retention.ms"].value == "3600000") == (code == OK)
    return code


def create_acls(case: Case) -> int:
    made = acl(ResourceType.TOPIC, case.topic, "User:bystander", AclOperation.READ)
    client = AdminClient(case.settings)
    future = client.create_acls([made])[made]
    code = error_code(lambda: future.result(TIMEOUT_S))
    found = case.broker.admin.describe_acls(_exactly(made)).result(TIMEOUT_S)
    assert ([_key(b) for b in found] == [_key(made)]) == (code == OK)
    return code


def list_topics(case: Case) -> int:
    """Listing all topics hides the topic; asking for it by name is refused."""
    client = AdminClient(case.settings)
    listed = case.topic in client.list_topics(timeout=TIMEOUT_S).topics
    error = client.list_topics(topic=case.topic, timeout=TIMEOUT_S).topics[case.topic].error
    code = OK if error is None else int(error.code())
    assert listed == (code == OK)
    return code


def list_offsets(case: Case) -> int:
    client = AdminClient(case.settings)
    wanted = TopicPartition(case.topic, 0)
    future = client.list_offsets({wanted: OffsetSpec.latest()})[wanted]
    code = error_code(lambda: future.result(TIMEOUT_S))
    if code == OK:
        assert future.result().offset == 1
    return _or_the_brokers_answer(code, lambda: _raw_list_offsets(case))


def delete_records(case: Case) -> int:
    client = AdminClient(case.settings)
    wanted = TopicPartition(case.topic, 0, 1)
    future = client.delete_records([wanted])[wanted]
    code = _or_the_brokers_answer(
        error_code(lambda: future.result(TIMEOUT_S)), lambda: _raw_delete_records(case)
    )
    earliest = TopicPartition(case.topic, 0)
    start = case.broker.admin.list_offsets({earliest: OffsetSpec.earliest()})[earliest]
    assert start.result(TIMEOUT_S).offset == (1 if code == OK else 0)
    return code


def _or_the_brokers_answer(code: int, raw: Callable[[], int]) -> int:
    """librdkafka answers _NOENT itself, without sending the request, when Metadata hides
    the topic from the principal; the broker's answer to the request is then read raw."""
    return raw() if code == KafkaError._NOENT else code


def _raw_list_offsets(case: Case) -> int:
    with case.broker.wire(case.user) as client:
        response = client.request(
            LIST_OFFSETS,
            7,
            replica_id=-1,
            isolation_level=0,
            topics=(
                ListOffsetsTopic(
                    name=case.topic,
                    partitions=(
                        ListOffsetsPartition(
                            partition_index=0, current_leader_epoch=-1, timestamp=LATEST
                        ),
                    ),
                ),
            ),
        )
    (partition,) = response.topics[0].partitions
    return int(partition.error_code)


def _raw_delete_records(case: Case) -> int:
    with case.broker.wire(case.user) as client:
        response = client.request(
            DELETE_RECORDS,
            2,
            topics=(
                DeleteRecordsTopic(
                    name=case.topic,
                    partitions=(DeleteRecordsPartition(partition_index=0, offset=1),),
                ),
            ),
            timeout=datetime.timedelta(seconds=TIMEOUT_S),
        )
    (partition,) = response.topics[0].partitions
    return int(partition.error_code)


@dataclass(frozen=True)
class Action:
    name: str
    run: Callable[[Case], int]
    needs: tuple[Need, ...]
    refused: int
    """What the client sees without the ACLs."""
    denied: int | None = None
    """What it sees when a DENY overrides the last need, if that differs."""
    records: int | None = 1
    """Records in the case's topic before the action; None: no topic."""


def _topic(operation: AclOperation) -> tuple[Need, ...]:
    return (Need(ResourceType.TOPIC, operation),)


ACTIONS = (
    Action("produce", produce, _topic(AclOperation.WRITE), TOPIC_DENIED, records=0),
    Action(
        "consume",
        consume,
        (Need(ResourceType.GROUP, AclOperation.READ), Need(ResourceType.TOPIC, AclOperation.READ)),
        GROUP_DENIED,
        denied=TOPIC_DENIED,
    ),
    Action("create-topic", create_topic, _topic(AclOperation.CREATE), TOPIC_DENIED, records=None),
    Action("delete-topic", delete_topic, _topic(AclOperation.DELETE), TOPIC_DENIED, records=0),
    Action(
        "describe-configs",
        describe_configs,
        _topic(AclOperation.DESCRIBE_CONFIGS),
        TOPIC_DENIED,
        records=0,
    ),
    Action(
        "describe-broker-configs",
        describe_broker_configs,
        (Need(ResourceType.BROKER, AclOperation.DESCRIBE_CONFIGS),),
        CLUSTER_DENIED,
        records=None,
    ),
    Action(
        "alter-configs", alter_configs, _topic(AclOperation.ALTER_CONFIGS), TOPIC_DENIED, records=0
    ),
    Action(
        "create-acls",
        create_acls,
        (Need(ResourceType.BROKER, AclOperation.ALTER),),
        CLUSTER_DENIED,
        records=None,
    ),
    Action("list-topics", list_topics, _topic(AclOperation.DESCRIBE), TOPIC_DENIED, records=0),
    Action("list-offsets", list_offsets, _topic(AclOperation.DESCRIBE), TOPIC_DENIED),
    Action("delete-records", delete_records, _topic(AclOperation.DELETE), TOPIC_DENIED),
)


def _user(action: str, kind: str) -> str:
    return ADMIN if kind == "super" else f"{action}-{kind}"


def _grants(case: Case, action: Action, kind: str) -> list[AclBinding]:
    bindings = []
    for need in action.needs:
        exact, prefix = case.names(need)
        allow_exact = acl(need.resource_type, exact, case.user, need.operation)
        if kind == "literal":
            bindings.append(allow_exact)
        elif kind == "prefixed":
            bindings.append(
                acl(need.resource_type, prefix, case.user, need.operation, ALLOW, PREFIXED)
            )
        elif kind == "deny":
            bindings.append(allow_exact)
            if need == action.needs[-1]:
                deny = acl(need.resource_type, prefix, case.user, need.operation, DENY, PREFIXED)
                bindings.append(deny)
        elif kind == "none":
            # Someone else's ACL on the resource: access is about the principal.
            bindings.append(acl(need.resource_type, exact, "User:bystander", need.operation))
    return bindings


def _expected(action: Action, kind: str) -> int:
    if kind in ("literal", "prefixed", "super"):
        return OK
    if kind == "deny" and action.denied is not None:
        return action.denied
    return action.refused


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("action", ACTIONS, ids=[action.name for action in ACTIONS])
def test_authorization_matrix(broker: AclBroker, action: Action, kind: str) -> None:
    case = Case(broker, _user(action.name, kind), unique(f"{action.name}-{kind}"))
    if action.records is not None:
        broker.create_topic(case.topic, action.records)
    grants = _grants(case, action, kind)
    if grants:
        broker.grant(*grants)
    assert action.run(case) == _expected(action, kind)


# -- implied operations, ALL, wildcards ---------------------------------------------------------


def test_read_implies_describe_for_metadata_and_list_offsets(broker: AclBroker) -> None:
    case = Case(broker, "reader", unique("implied"))
    broker.create_topic(case.topic, records=1)
    broker.grant(acl(ResourceType.TOPIC, case.topic, case.user, AclOperation.READ))
    assert list_topics(case) == OK
    assert list_offsets(case) == OK
    assert produce(case) == TOPIC_DENIED
    assert describe_configs(case) == TOPIC_DENIED
    assert delete_records(case) == TOPIC_DENIED


def test_alter_configs_implies_describe_configs_but_not_describe(broker: AclBroker) -> None:
    case = Case(broker, "configurer", unique("implied-configs"))
    broker.create_topic(case.topic)
    broker.grant(acl(ResourceType.TOPIC, case.topic, case.user, AclOperation.ALTER_CONFIGS))
    assert describe_configs(case) == OK
    assert alter_configs(case) == OK
    assert list_topics(case) == TOPIC_DENIED


def test_all_allows_every_topic_operation(broker: AclBroker) -> None:
    case = Case(broker, "owner", unique("all"))
    broker.grant(acl(ResourceType.TOPIC, case.prefix, case.user, AclOperation.ALL, ALLOW, PREFIXED))
    assert create_topic(case) == OK
    assert produce(case) == OK
    assert list_topics(case) == OK
    assert describe_configs(case) == OK
    assert alter_configs(case) == OK
    assert list_offsets(case) == OK
    assert delete_records(case) == OK
    assert delete_topic(case) == OK


def test_deny_all_overrides_every_allow(broker: AclBroker) -> None:
    case = Case(broker, "blocked", unique("deny-all"))
    broker.create_topic(case.topic, records=1)
    broker.grant(
        acl(ResourceType.TOPIC, case.topic, case.user, AclOperation.READ),
        acl(ResourceType.TOPIC, case.topic, case.user, AclOperation.WRITE),
        acl(ResourceType.TOPIC, case.topic, case.user, AclOperation.ALL, DENY),
    )
    assert list_topics(case) == TOPIC_DENIED
    assert produce(case) == TOPIC_DENIED
    assert list_offsets(case) == TOPIC_DENIED


def test_wildcard_principal_grants_and_denies_every_user(broker: AclBroker) -> None:
    shared = Case(broker, "anyone-a", unique("wildcard-principal"))
    broker.create_topic(shared.topic)
    broker.grant(acl(ResourceType.TOPIC, shared.topic, "User:*", AclOperation.WRITE))
    assert produce(shared) == OK
    assert produce(Case(broker, "anyone-b", shared.prefix)) == OK
    closed = Case(broker, "anyone-a", unique("wildcard-deny"))
    broker.create_topic(closed.topic)
    broker.grant(
        acl(ResourceType.TOPIC, closed.topic, closed.user, AclOperation.WRITE),
        acl(ResourceType.TOPIC, closed.topic, "User:*", AclOperation.WRITE, DENY),
    )
    assert produce(closed) == TOPIC_DENIED


def test_wildcard_resource_matches_every_topic(broker: AclBroker) -> None:
    case = Case(broker, "wild", unique("wildcard-resource"))
    broker.grant(acl(ResourceType.TOPIC, "*", case.user, AclOperation.DESCRIBE))
    broker.create_topic(case.topic, records=1)
    assert list_topics(case) == OK
    assert list_offsets(case) == OK
    assert produce(case) == TOPIC_DENIED


# -- DescribeAcls and DeleteAcls ------------------------------------------------------------------


def _exactly(binding: AclBinding) -> AclBindingFilter:
    return AclBindingFilter(
        binding.restype,
        binding.name,
        binding.resource_pattern_type,
        binding.principal,
        binding.host,
        binding.operation,
        binding.permission_type,
    )


def _filter(
    name: str | None = None,
    pattern: ResourcePatternType = ResourcePatternType.ANY,
    resource_type: ResourceType = ResourceType.ANY,
    principal: str | None = None,
    operation: AclOperation = AclOperation.ANY,
) -> AclBindingFilter:
    return AclBindingFilter(
        resource_type, name, pattern, principal, None, operation, AclPermissionType.ANY
    )


def _key(binding: AclBinding) -> tuple[Any, ...]:
    return (
        binding.restype,
        binding.name,
        binding.resource_pattern_type,
        binding.principal,
        binding.host,
        binding.operation,
        binding.permission_type,
    )


def _described(broker: AclBroker, acl_filter: AclBindingFilter) -> set[tuple[Any, ...]]:
    return {_key(b) for b in broker.admin.describe_acls(acl_filter).result(TIMEOUT_S)}


def test_describe_acls_filters_by_pattern_and_principal(broker: AclBroker) -> None:
    prefix = unique("described")
    topic, principal = f"{prefix}topic", f"User:{prefix}user"
    literal = acl(ResourceType.TOPIC, topic, principal, AclOperation.READ)
    prefixed = acl(ResourceType.TOPIC, prefix, principal, AclOperation.WRITE, DENY, PREFIXED)
    same_name_prefixed = acl(
        ResourceType.TOPIC, topic, principal, AclOperation.READ, ALLOW, PREFIXED
    )
    wildcard = acl(ResourceType.TOPIC, "*", principal, AclOperation.DESCRIBE)
    group = acl(ResourceType.GROUP, topic, principal, AclOperation.READ)
    other = acl(ResourceType.TOPIC, topic, "User:someone-else", AclOperation.READ)
    broker.grant(literal, prefixed, same_name_prefixed, wildcard, group, other)
    mine = {_key(b) for b in (literal, prefixed, same_name_prefixed, wildcard, group)}

    assert _described(broker, _filter(principal=principal)) == mine
    assert _described(broker, _filter(topic)) == {
        _key(b) for b in (literal, same_name_prefixed, group, other)
    }
    assert _described(broker, _filter(topic, ResourcePatternType.MATCH, principal=principal)) == {
        _key(b) for b in (literal, prefixed, same_name_prefixed, wildcard, group)
    }
    match_topics = _filter(topic, ResourcePatternType.MATCH, ResourceType.TOPIC, principal)
    assert _described(broker, match_topics) == {
        _key(b) for b in (literal, prefixed, same_name_prefixed, wildcard)
    }
    assert _described(broker, _filter(topic, LITERAL, ResourceType.TOPIC)) == {
        _key(literal),
        _key(other),
    }
    assert _described(broker, _filter(prefix, PREFIXED, principal=principal)) == {_key(prefixed)}
    by_operation = _filter(principal=principal, operation=AclOperation.WRITE)
    assert _described(broker, by_operation) == {_key(prefixed)}


def test_delete_acls_returns_the_bindings_each_filter_matched(broker: AclBroker) -> None:
    prefix = unique("deleted")
    topic, principal = f"{prefix}topic", f"User:{prefix}user"
    doomed = [
        acl(ResourceType.TOPIC, topic, principal, AclOperation.READ),
        acl(ResourceType.TOPIC, prefix, principal, AclOperation.WRITE, DENY, PREFIXED),
        acl(ResourceType.GROUP, topic, principal, AclOperation.READ),
    ]
    kept = acl(ResourceType.TOPIC, topic, "User:someone-else", AclOperation.READ)
    broker.grant(*doomed, kept)
    by_principal = _filter(principal=principal)
    nothing = _filter(f"{prefix}nothing")
    results = broker.admin.delete_acls([by_principal, nothing])
    assert {_key(b) for b in results[by_principal].result(TIMEOUT_S)} == {_key(b) for b in doomed}
    assert results[nothing].result(TIMEOUT_S) == []
    assert _described(broker, by_principal) == set()
    assert _described(broker, _filter(topic)) == {_key(kept)}


def test_acl_apis_need_cluster_describe_and_alter(broker: AclBroker) -> None:
    # librdkafka drops DescribeAcls' top-level error (its future yields []), so the broker's
    # answer is read with a raw client.
    with broker.wire("reader") as client:
        described = client.request(
            DESCRIBE_ACLS,
            3,
            resource_type_filter=ResourceType.ANY.value,
            resource_name_filter=None,
            pattern_type_filter=ResourcePatternType.ANY.value,
            principal_filter=None,
            host_filter=None,
            operation=AclOperation.ANY.value,
            permission_type=AclPermissionType.ANY.value,
        )
    assert described.error_code == CLUSTER_DENIED and described.resources == ()
    admin = AdminClient(broker.settings("reader"))
    (deleted,) = admin.delete_acls([_filter(principal="User:reader")]).values()
    assert error_code(lambda: deleted.result(TIMEOUT_S)) == CLUSTER_DENIED


# -- invalid ACLs -------------------------------------------------------------------------------


VALID_CREATION = {
    "resource_type": 2,
    "resource_name": "valid-topic",
    "resource_pattern_type": 3,
    "principal": "User:valid",
    "host": "*",
    "operation": 3,
    "permission_type": 3,
}


@pytest.mark.parametrize(
    "change",
    [
        {"resource_name": ""},
        {"resource_pattern_type": 1},
        {"resource_pattern_type": 2},
        {"principal": "alice"},
        {"principal": ":alice"},
        {"resource_type": 1},
        {"resource_type": 4, "resource_name": "not-the-cluster"},
        {"operation": 1},
        {"permission_type": 1},
    ],
    ids=[
        "empty-name",
        "pattern-any",
        "pattern-match",
        "untyped-principal",
        "empty-principal-type",
        "resource-type-any",
        "cluster-name",
        "operation-any",
        "permission-any",
    ],
)
def test_invalid_acls_are_refused_with_invalid_request(
    broker: AclBroker, change: dict[str, Any]
) -> None:
    valid = {**VALID_CREATION, "principal": f"User:{unique('valid')}"}
    invalid = {**valid, **change}
    with broker.wire(ADMIN) as client:
        response = client.request(
            CREATE_ACLS, 3, creations=(AclCreation(**invalid), AclCreation(**valid))
        )
    refused, created = response.results
    assert refused.error_code == KafkaError.INVALID_REQUEST and refused.error_message
    assert created.error_code == OK
    principal_filter = _filter(principal=invalid["principal"] or None)
    described = broker.admin.describe_acls(principal_filter).result(TIMEOUT_S)
    if invalid["principal"] == valid["principal"]:
        assert [b.name for b in described] == [valid["resource_name"]]
    else:
        assert described == []


def test_confluent_kafka_sees_invalid_request_for_an_empty_name_or_untyped_principal(
    broker: AclBroker,
) -> None:
    empty_name = acl(ResourceType.TOPIC, "", "User:x", AclOperation.READ)
    untyped = AclBinding(ResourceType.TOPIC, "t", LITERAL, "x", "*", AclOperation.READ, ALLOW)
    futures = broker.admin.create_acls([empty_name, untyped])
    for future in futures.values():
        assert error_code(lambda f=future: f.result(TIMEOUT_S)) == KafkaError.INVALID_REQUEST


# -- allow.everyone.if.no.acl.found, and ACLs across a restart ------------------------------------


@pytest.fixture(scope="module")
def open_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AclBroker]:
    started = AclBroker(
        tmp_path_factory.mktemp("authz-open"),
        ["loner", "other"],
        **{"allow.everyone.if.no.acl.found": "true"},
    ).start()
    try:
        yield started
    finally:
        started.stop()


def test_allow_everyone_applies_only_to_resources_without_acls(open_broker: AclBroker) -> None:
    free = Case(open_broker, "loner", unique("free"))
    assert create_topic(free) == OK
    assert produce(free) == OK
    assert consume(free) == OK
    guarded = Case(open_broker, "loner", unique("guarded"))
    open_broker.create_topic(guarded.topic, records=1)
    open_broker.grant(
        acl(ResourceType.TOPIC, guarded.prefix, "other", AclOperation.READ, ALLOW, PREFIXED)
    )
    assert produce(guarded) == TOPIC_DENIED
    assert list_topics(guarded) == TOPIC_DENIED
    assert produce(Case(open_broker, "other", guarded.prefix)) == TOPIC_DENIED


def test_idempotent_producer_without_acls_under_allow_everyone(open_broker: AclBroker) -> None:
    # A cluster ACL for someone else takes the cluster out of allow.everyone, so
    # InitProducerId falls back to "WRITE on some topic", which allow.everyone grants.
    open_broker.grant(acl(ResourceType.BROKER, CLUSTER, "other", AclOperation.DESCRIBE))
    case = Case(open_broker, "loner", unique("idempotent"))
    open_broker.create_topic(case.topic)
    reports: list[KafkaError | None] = []
    producer = Producer({**case.settings, "enable.idempotence": True, "message.timeout.ms": 5000})
    producer.produce(case.topic, b"once", on_delivery=lambda error, _: reports.append(error))
    assert producer.flush(TIMEOUT_S) == 0
    assert reports == [None]


def test_acls_survive_a_broker_restart(open_broker: AclBroker) -> None:
    case = Case(open_broker, "loner", unique("restart"))
    open_broker.create_topic(case.topic, records=1)
    grants = [
        acl(ResourceType.TOPIC, case.topic, "other", AclOperation.WRITE),
        acl(ResourceType.TOPIC, case.prefix, "loner", AclOperation.WRITE, DENY, PREFIXED),
    ]
    open_broker.grant(*grants)
    by_topic = _filter(case.topic, ResourcePatternType.MATCH, ResourceType.TOPIC)
    before = _described(open_broker, by_topic)
    assert before == {_key(b) for b in grants}
    open_broker.stop()
    open_broker.start()
    assert _described(open_broker, by_topic) == before
    # Were the ACLs lost, allow.everyone would let the loner write.
    assert produce(case) == TOPIC_DENIED
    assert produce(Case(open_broker, "other", case.prefix)) == OK
