"""Each broker's server.properties is read by the broker itself exactly as intended."""

from __future__ import annotations

import pytest

from strom.broker.config.broker_config import BrokerConfig
from strom.broker.config.properties import parse_properties
from strom.operator.crds.streamcluster import StreamClusterSpec
from strom.operator.streamcluster.config import (
    broker_properties,
    quorum_voters,
    render_properties,
)
from strom.operator.streamcluster.naming import ClusterIdentity

CLUSTER = ClusterIdentity(name="orders", namespace="prod", uid="uid-1")


def _spec(**fields: object) -> StreamClusterSpec:
    return StreamClusterSpec.model_validate({"storage": {"size": "1Gi"}, **fields})


@pytest.mark.parametrize("ordinal", [0, 2])
def test_the_broker_accepts_the_generated_config_with_the_ordinal_as_node_id(ordinal: int) -> None:
    spec = _spec(replicas=3, config={"num.partitions": 3, "auto.create.topics.enable": False})
    text = render_properties(broker_properties(CLUSTER, spec, ordinal), "test")

    config = BrokerConfig.from_properties(parse_properties(text))

    assert config.node_id == ordinal
    assert [str(e) for e in config.advertised_listeners] == [
        f"PLAIN://orders-broker-{ordinal}.orders-brokers.prod.svc:9092"
    ]
    assert config.http_listener == ("0.0.0.0", 8080)
    assert config.num_partitions == 3
    assert config.auto_create_topics_enable is False
    assert config.unknown_keys == frozenset()
    assert config.is_broker and config.is_controller
    assert [voter.node_id for voter in config.quorum_voters] == [0, 1, 2]
    assert config.controller_listener_names == ("CONTROLLER",)
    assert config.inter_broker_listener_name == "PLAIN"


def test_voters_are_every_broker_by_ordinal_on_the_controller_port() -> None:
    assert quorum_voters(CLUSTER, 2) == (
        "0@orders-broker-0.orders-brokers.prod.svc:9090,"
        "1@orders-broker-1.orders-brokers.prod.svc:9090"
    )


def test_values_with_special_characters_survive_the_round_trip() -> None:
    properties = {"a.key": "C:\\data\\x", "b.key": " leading space", "c.key": "two\nlines"}

    text = render_properties(properties, "round trip")

    assert parse_properties(text) == properties


def test_booleans_are_written_as_kafka_spells_them() -> None:
    properties = broker_properties(CLUSTER, _spec(config={"log.cleaner.enable": True}), 0)

    assert properties["log.cleaner.enable"] == "true"
