"""Roles, controller quorum voters and listener roles (`broker/config/quorum_config.py`),
checked at config-parse time the way Kafka checks them."""

from __future__ import annotations

import pytest

from strom.broker.config.broker_config import BrokerConfig, ConfigError, QuorumVoter

VOTERS = "1@127.0.0.1:9093,2@127.0.0.1:9094,3@127.0.0.1:9095"


def _node(node_id: int = 1, **overrides: str) -> dict[str, str]:
    """A combined broker+controller node of a three-voter quorum, as an operator writes it."""
    controller_port = 9092 + node_id
    return {
        "node.id": str(node_id),
        "process.roles": "broker,controller",
        "controller.quorum.voters": VOTERS,
        "listeners": f"PLAINTEXT://127.0.0.1:{9190 + node_id},CONTROLLER://:{controller_port}",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        **overrides,
    }


def _broker_only(node_id: int = 4, **overrides: str) -> dict[str, str]:
    return _node(
        node_id,
        **{
            "process.roles": "broker",
            "listeners": "PLAINTEXT://127.0.0.1:9194",
            **overrides,
        },
    )


def _refused(properties: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        BrokerConfig.from_properties(properties)
    assert str(raised.value)
    return raised.value


def test_the_single_node_default_is_a_combined_one_voter_quorum_without_network() -> None:
    config = BrokerConfig.from_properties({"node.id": "5"})

    assert config.process_roles == frozenset({"broker", "controller"})
    assert config.is_broker and config.is_controller
    assert config.quorum_voters == ()
    assert config.quorum_voter_ids == frozenset({5})
    assert config.controller_listener_names == ()
    assert config.inter_broker_listener_name == "PLAINTEXT"
    assert config.offsets_topic_replication_factor == 1
    assert [str(e) for e in config.advertised_listeners] == ["PLAINTEXT://:9092"]


def test_a_combined_node_of_a_three_voter_quorum() -> None:
    config = BrokerConfig.from_properties(_node(2))

    assert config.quorum_voters == (
        QuorumVoter(1, "127.0.0.1", 9093),
        QuorumVoter(2, "127.0.0.1", 9094),
        QuorumVoter(3, "127.0.0.1", 9095),
    )
    assert config.quorum_voter_ids == frozenset({1, 2, 3})
    assert config.controller_listener_names == ("CONTROLLER",)
    assert config.quorum.controller_security_protocol == "PLAINTEXT"
    assert config.inter_broker_listener_name == "PLAINTEXT"
    assert config.offsets_topic_replication_factor == 3
    # The controller listener is never published to clients.
    assert [e.listener_name for e in config.advertised_listeners] == ["PLAINTEXT"]


def test_a_controller_listener_in_advertised_listeners_is_not_published() -> None:
    config = BrokerConfig.from_properties(
        _node(1, **{"advertised.listeners": "PLAINTEXT://b1:9191,CONTROLLER://b1:9093"})
    )
    assert [str(e) for e in config.advertised_listeners] == ["PLAINTEXT://b1:9191"]


def test_voters_accept_ipv6_hosts_in_brackets() -> None:
    config = BrokerConfig.from_properties(
        _node(1, **{"controller.quorum.voters": "1@[::1]:9093,2@[::1]:9094"})
    )
    assert config.quorum_voters[0] == QuorumVoter(1, "::1", 9093)
    assert str(config.quorum_voters[0]) == "1@[::1]:9093"


def test_a_broker_only_node_reaches_the_controllers_through_the_controller_listener() -> None:
    config = BrokerConfig.from_properties(_broker_only())

    assert config.is_broker and not config.is_controller
    assert config.quorum_voter_ids == frozenset({1, 2, 3})
    assert config.quorum.controller_security_protocol == "PLAINTEXT"
    assert config.inter_broker_listener_name == "PLAINTEXT"


def test_a_controller_only_node_listens_on_controller_listeners_only() -> None:
    config = BrokerConfig.from_properties(
        _node(3, **{"process.roles": "controller", "listeners": "CONTROLLER://:9095"})
    )

    assert config.is_controller and not config.is_broker
    assert config.inter_broker_listener_name is None


def test_quorum_timeouts_have_kafkas_defaults() -> None:
    quorum = BrokerConfig.from_properties({}).quorum
    assert (quorum.election_timeout_ms, quorum.fetch_timeout_ms) == (1000, 2000)
    assert (quorum.election_backoff_max_ms, quorum.request_timeout_ms) == (1000, 2000)


def test_replication_keys_have_kafkas_defaults() -> None:
    config = BrokerConfig.from_properties({})

    assert config.replica_lag_time_max_ms == 30_000
    assert config.replica_fetch_max_bytes == 1_048_576
    assert config.replica_fetch_wait_max_ms == 500
    assert config.replica_fetch_min_bytes == 1
    assert config.replica_fetch_response_max_bytes == 10_485_760
    assert config.replica_fetch_backoff_ms == 1000
    assert config.replica_socket_timeout_ms == 30_000
    assert config.broker_session_timeout_ms == 9000
    assert config.broker_heartbeat_interval_ms == 2000
    assert config.unclean_leader_election_enable is False
    assert config.controlled_shutdown_enable is True
    assert config.values["offsets.topic.replication.factor"] == 3


@pytest.mark.parametrize(
    "voters",
    [
        "x@host:9093",  # the id is not a number
        "1@host",  # no port
        "1host:9093",  # no @
        "1@host:port",  # the port is not a number
        "1@:9093",  # no host
        "-1@host:9093",
        "1@host:0",
        "1@host:70000",
        "1@a:9093,1@b:9093",  # duplicate id
        "1@a:9093,2@A:9093",  # duplicate address
    ],
)
def test_malformed_voters_are_refused(voters: str) -> None:
    error = _refused(_node(1, **{"controller.quorum.voters": voters}))
    assert error.key == "controller.quorum.voters"


def test_a_controller_must_be_one_of_the_voters() -> None:
    error = _refused(_node(4, listeners="PLAINTEXT://:9194,CONTROLLER://:9096"))
    assert error.key == "controller.quorum.voters"
    assert "node.id 4" in str(error) and "not one of the voters" in str(error)


def test_a_broker_only_node_must_not_be_a_voter() -> None:
    error = _refused(_broker_only(2))
    assert error.key == "controller.quorum.voters"
    assert "no controller role" in str(error)


def test_a_controllers_own_voter_entry_must_match_its_controller_listener_port() -> None:
    error = _refused(_node(1, listeners="PLAINTEXT://:9191,CONTROLLER://:9999"))
    assert error.key == "controller.quorum.voters"
    assert "9093" in str(error) and "9999" in str(error)


def test_controller_listener_names_must_name_a_listener() -> None:
    error = _refused(_node(1, **{"controller.listener.names": "QUORUM"}))
    assert error.key == "controller.listener.names"
    assert "QUORUM" in str(error)


def test_voters_without_controller_listener_names_are_refused() -> None:
    properties = _node(1)
    del properties["controller.listener.names"]
    assert _refused(properties).key == "controller.listener.names"


def test_a_broker_only_node_must_not_listen_on_a_controller_listener() -> None:
    error = _refused(_broker_only(listeners="PLAINTEXT://:9194,CONTROLLER://:9096"))
    assert error.key == "controller.listener.names"


def test_a_broker_only_node_needs_a_security_protocol_for_the_controller_listener() -> None:
    error = _refused(
        _broker_only(
            **{"controller.listener.names": "QUORUM", "listener.security.protocol.map": ""}
        )
    )
    assert error.key == "listener.security.protocol.map"


def test_a_controller_only_node_must_not_have_client_listeners() -> None:
    error = _refused(_node(3, **{"process.roles": "controller"}))
    assert error.key == "listeners"


@pytest.mark.parametrize("roles", ["broker", "controller"])
def test_only_a_combined_node_may_leave_the_voters_empty(roles: str) -> None:
    error = _refused({"process.roles": roles})
    assert error.key == "controller.quorum.voters"


@pytest.mark.parametrize("roles", ["broker,zookeeper", "", "leader"])
def test_unknown_or_missing_roles_are_refused(roles: str) -> None:
    assert _refused({"process.roles": roles}).key == "process.roles"


def test_inter_broker_listener_must_be_a_listener() -> None:
    error = _refused(_node(1, **{"inter.broker.listener.name": "REPLICATION"}))
    assert error.key == "inter.broker.listener.name"


def test_inter_broker_listener_must_not_be_a_controller_listener() -> None:
    error = _refused(_node(1, **{"inter.broker.listener.name": "controller"}))
    assert error.key == "inter.broker.listener.name"


def test_inter_broker_listener_defaults_to_the_first_non_controller_listener() -> None:
    config = BrokerConfig.from_properties(
        _node(
            1,
            listeners="CONTROLLER://:9093,INTERNAL://:9191,EXTERNAL://:9291",
            **{
                "listener.security.protocol.map": (
                    "CONTROLLER:PLAINTEXT,INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT"
                )
            },
        )
    )
    assert config.inter_broker_listener_name == "INTERNAL"
    named = BrokerConfig.from_properties(_node(1, **{"inter.broker.listener.name": "plaintext"}))
    assert named.inter_broker_listener_name == "PLAINTEXT"


def test_a_broker_needs_a_listener_that_is_not_a_controller_listener() -> None:
    error = _refused(_node(1, listeners="CONTROLLER://:9093"))
    assert error.key == "listeners"


@pytest.mark.parametrize("key", ["replica.socket.timeout.ms", "replica.lag.time.max.ms"])
def test_replica_timeouts_must_allow_a_fetch_to_wait(key: str) -> None:
    error = _refused({"replica.fetch.wait.max.ms": "500", key: "499"})
    assert error.key == key
