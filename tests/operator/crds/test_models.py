"""The CRD models accept what Kafka users write and refuse what would break a cluster."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from strom.operator.crds.streamcluster import StreamClusterSpec, is_operator_owned
from strom.operator.crds.streamtopic import StreamTopicSpec
from strom.operator.crds.streamuser import StreamUserSpec


def _cluster(**fields: object) -> StreamClusterSpec:
    return StreamClusterSpec.model_validate({"storage": {"size": "1Gi"}, **fields})


def test_defaults_give_one_broker_with_one_plain_listener() -> None:
    spec = _cluster()

    assert spec.replicas == 1
    assert [(item.name, item.port, item.type, item.tls) for item in spec.listeners] == [
        ("plain", 9092, "internal", False)
    ]
    assert spec.storage.delete_claim is False


def test_fields_are_camel_case_and_unknown_fields_are_refused() -> None:
    spec = _cluster(storage={"size": "1Gi", "storageClassName": "fast", "deleteClaim": True})
    assert spec.storage.storage_class_name == "fast"

    with pytest.raises(ValidationError, match="storageClas"):
        _cluster(storage={"size": "1Gi", "storageClas": "typo"})


@pytest.mark.parametrize(
    "key",
    [
        "node.id",
        "listeners",
        "advertised.listeners",
        "controller.quorum.voters",
        "log.dirs",
        "process.roles",
        "listener.name.plain.ssl.key.location",
        "ssl.key.location",
        "sasl.enabled.mechanisms",
        "super.users",
        "strom.http.listener",
    ],
)
def test_keys_the_operator_owns_are_refused(key: str) -> None:
    with pytest.raises(ValidationError, match=key.replace(".", r"\.")):
        _cluster(config={key: "x"})


@pytest.mark.parametrize(
    "key",
    ["num.partitions", "log.retention.ms", "default.replication.factor", "min.insync.replicas"],
)
def test_ordinary_kafka_keys_are_accepted(key: str) -> None:
    assert not is_operator_owned(key)
    assert _cluster(config={key: 3}).config == {key: 3}


@pytest.mark.parametrize(
    ("listeners", "message"),
    [
        ([{"name": "a", "port": 9092}, {"name": "a", "port": 9093}], "names must be unique"),
        ([{"name": "a", "port": 9092}, {"name": "b", "port": 9092}], "ports must be unique"),
        ([{"name": "a", "port": 8080}], "reserved"),
        ([{"name": "a", "port": 9093, "tls": True}], "spec.tls"),
        ([{"name": "Upper", "port": 9092}], "pattern"),
        ([], "at least 1"),
    ],
)
def test_inconsistent_listeners_are_refused(listeners: list[object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _cluster(listeners=listeners)


@pytest.mark.parametrize("size", ["10", "1.5Gi", "100Mi", "2T"])
def test_storage_sizes_in_quantity_notation_are_accepted(size: str) -> None:
    assert _cluster(storage={"size": size}).storage.size == size


@pytest.mark.parametrize("size", ["", "ten", "-1Gi", "1 Gi", "1GB"])
def test_malformed_storage_sizes_are_refused(size: str) -> None:
    with pytest.raises(ValidationError):
        _cluster(storage={"size": size})


def test_replicas_stay_within_bounds() -> None:
    with pytest.raises(ValidationError):
        _cluster(replicas=0)


def test_topic_spec_with_defaults_and_configs() -> None:
    spec = StreamTopicSpec.model_validate(
        {"clusterRef": {"name": "orders"}, "partitions": 6, "config": {"retention.ms": 1000}}
    )

    assert (spec.cluster_ref.name, spec.partitions, spec.replication_factor) == ("orders", 6, None)
    with pytest.raises(ValidationError):
        StreamTopicSpec.model_validate({"clusterRef": {"name": "orders"}, "topicName": "a b"})


def test_user_spec_with_acls_and_quotas() -> None:
    spec = StreamUserSpec.model_validate(
        {
            "clusterRef": {"name": "orders"},
            "authentication": {"type": "scram-sha-512"},
            "authorization": {
                "acls": [
                    {
                        "resource": {"type": "topic", "name": "orders-", "patternType": "prefix"},
                        "operations": ["Read", "Describe"],
                    }
                ]
            },
            "quotas": {"producerByteRate": 1048576},
        }
    )

    assert spec.authorization is not None
    (acl,) = spec.authorization.acls
    assert (acl.resource.pattern_type, acl.type, acl.host) == ("prefix", "allow", "*")
    with pytest.raises(ValidationError):
        StreamUserSpec.model_validate(
            {"clusterRef": {"name": "orders"}, "authentication": {"type": "plain"}}
        )
