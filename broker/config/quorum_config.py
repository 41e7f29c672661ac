"""The node's place in a KRaft-style cluster: its roles, the controller quorum's voters and
which listeners carry controller and inter-broker traffic, checked together as Kafka does.

`controller.quorum.voters` left empty means a one-voter quorum of this node with no network
(the single-node default); only a combined `broker,controller` node may leave it empty.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from strom.broker.config.errors import ConfigError
from strom.broker.config.listeners import KNOWN_PROTOCOLS, Endpoint

BROKER_ROLE = "broker"
CONTROLLER_ROLE = "controller"
PROCESS_ROLES = (BROKER_ROLE, CONTROLLER_ROLE)

_VOTERS = "controller.quorum.voters"
_CONTROLLER_LISTENERS = "controller.listener.names"
_INTER_BROKER_LISTENER = "inter.broker.listener.name"


@dataclass(frozen=True, slots=True)
class QuorumVoter:
    """One `id@host:port` entry of controller.quorum.voters."""

    node_id: int
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.node_id}@{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class QuorumConfig:
    process_roles: frozenset[str]
    voters: tuple[QuorumVoter, ...]  # empty: a one-voter quorum of this node, no network
    controller_listener_names: tuple[str, ...]
    # None only on a node without the broker role.
    inter_broker_listener_name: str | None
    # Security protocol of the first controller listener: how anyone reaches the controllers.
    controller_security_protocol: str | None
    election_timeout_ms: int = 1000
    fetch_timeout_ms: int = 2000
    election_backoff_max_ms: int = 1000
    request_timeout_ms: int = 2000

    @property
    def is_broker(self) -> bool:
        return BROKER_ROLE in self.process_roles

    @property
    def is_controller(self) -> bool:
        return CONTROLLER_ROLE in self.process_roles


def parse_quorum_config(
    values: Mapping[str, Any],
    node_id: int,
    listeners: Sequence[Endpoint],
    protocol_map: Mapping[str, str],
) -> QuorumConfig:
    """Check the quorum keys against each other and against `listeners`; raise ConfigError
    naming the key to fix."""
    roles = frozenset(values["process.roles"])
    voters = parse_voters(values[_VOTERS] or ())
    controller_names = tuple(
        dict.fromkeys(name.upper() for name in values[_CONTROLLER_LISTENERS] or ())
    )
    if not voters and roles != frozenset(PROCESS_ROLES):
        raise ConfigError(
            _VOTERS,
            f"is required with process.roles={','.join(sorted(roles))}; only a combined "
            "broker,controller node may leave it empty (a one-node quorum)",
        )
    if voters and not controller_names:
        raise ConfigError(_CONTROLLER_LISTENERS, f"is required when {_VOTERS} is set")
    _check_membership(node_id, roles, voters)
    if CONTROLLER_ROLE in roles:
        _check_controller_listeners(node_id, roles, voters, controller_names, listeners)
    else:
        _check_broker_only_listeners(controller_names, listeners)
    protocol = None
    if controller_names:
        protocol = protocol_map.get(controller_names[0], controller_names[0])
        if protocol not in KNOWN_PROTOCOLS:
            raise ConfigError(
                "listener.security.protocol.map",
                f"controller listener {controller_names[0]} has no security protocol; map it",
            )
    return QuorumConfig(
        process_roles=roles,
        voters=voters,
        controller_listener_names=controller_names,
        inter_broker_listener_name=_inter_broker_listener(
            values[_INTER_BROKER_LISTENER], roles, controller_names, listeners
        ),
        controller_security_protocol=protocol,
        election_timeout_ms=int(values["controller.quorum.election.timeout.ms"]),
        fetch_timeout_ms=int(values["controller.quorum.fetch.timeout.ms"]),
        election_backoff_max_ms=int(values["controller.quorum.election.backoff.max.ms"]),
        request_timeout_ms=int(values["controller.quorum.request.timeout.ms"]),
    )


def parse_voters(items: Sequence[str]) -> tuple[QuorumVoter, ...]:
    """`id@host:port` entries; ids and addresses must each be unique."""
    voters = tuple(_parse_voter(item) for item in items)
    seen_ids: set[int] = set()
    seen_addresses: set[tuple[str, int]] = set()
    for voter in voters:
        if voter.node_id in seen_ids:
            raise ConfigError(_VOTERS, f"node id {voter.node_id} appears more than once")
        address = (voter.host.lower(), voter.port)
        if address in seen_addresses:
            raise ConfigError(_VOTERS, f"address {voter.host}:{voter.port} appears more than once")
        seen_ids.add(voter.node_id)
        seen_addresses.add(address)
    return voters


def broker_advertised_listeners(
    advertised: Sequence[Endpoint], quorum: QuorumConfig
) -> tuple[Endpoint, ...]:
    """What a node with the broker role publishes to clients: never a controller listener,
    which clients could not use (Kafka's effective advertised broker listeners)."""
    if not quorum.is_broker:
        return tuple(advertised)
    names = quorum.controller_listener_names
    return tuple(endpoint for endpoint in advertised if endpoint.listener_name not in names)


def _parse_voter(item: str) -> QuorumVoter:
    id_text, at, address = item.partition("@")
    if not at:
        raise ConfigError(_VOTERS, f"{item!r} is not of the form id@host:port")
    try:
        node_id = int(id_text)
    except ValueError:
        raise ConfigError(_VOTERS, f"{item!r} has a node id that is not a number") from None
    if node_id < 0:
        raise ConfigError(_VOTERS, f"{item!r} has a negative node id")
    host, colon, port_text = address.rpartition(":")
    if not colon or not host or host == "[]":
        raise ConfigError(_VOTERS, f"{item!r} is not of the form id@host:port")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(_VOTERS, f"{item!r} has a port that is not a number") from None
    if not 1 <= port <= 65535:
        raise ConfigError(_VOTERS, f"{item!r} has a port outside 1-65535")
    return QuorumVoter(node_id, host, port)


def _check_membership(node_id: int, roles: frozenset[str], voters: tuple[QuorumVoter, ...]) -> None:
    if not voters:
        return
    voter_ids = sorted(voter.node_id for voter in voters)
    if CONTROLLER_ROLE in roles and node_id not in voter_ids:
        raise ConfigError(
            _VOTERS,
            f"node.id {node_id} has the controller role but is not one of the voters "
            f"{', '.join(map(str, voter_ids))}",
        )
    if CONTROLLER_ROLE not in roles and node_id in voter_ids:
        raise ConfigError(
            _VOTERS, f"node.id {node_id} is a voter, but process.roles has no controller role"
        )


def _check_controller_listeners(
    node_id: int,
    roles: frozenset[str],
    voters: tuple[QuorumVoter, ...],
    controller_names: tuple[str, ...],
    listeners: Sequence[Endpoint],
) -> None:
    listener_names = [endpoint.listener_name for endpoint in listeners]
    for name in controller_names:
        if name not in listener_names:
            raise ConfigError(_CONTROLLER_LISTENERS, f"{name} is not a listener in listeners")
    if BROKER_ROLE not in roles:
        for name in listener_names:
            if name not in controller_names:
                raise ConfigError(
                    "listeners",
                    f"listener {name} is not in {_CONTROLLER_LISTENERS}; a node with only the "
                    "controller role listens on controller listeners only",
                )
    own = next((voter for voter in voters if voter.node_id == node_id), None)
    if own is None:
        return
    ports = sorted(e.port for e in listeners if e.listener_name in controller_names)
    if own.port not in ports:
        raise ConfigError(
            _VOTERS,
            f"this node's entry {own} has port {own.port}, but its controller listener "
            f"listens on {', '.join(map(str, ports))}",
        )


def _check_broker_only_listeners(
    controller_names: tuple[str, ...], listeners: Sequence[Endpoint]
) -> None:
    for endpoint in listeners:
        if endpoint.listener_name in controller_names:
            raise ConfigError(
                _CONTROLLER_LISTENERS,
                f"{endpoint.listener_name} is in listeners, but a node with only the broker "
                "role must not listen on a controller listener",
            )


def _inter_broker_listener(
    configured: str | None,
    roles: frozenset[str],
    controller_names: tuple[str, ...],
    listeners: Sequence[Endpoint],
) -> str | None:
    listener_names = [endpoint.listener_name for endpoint in listeners]
    if configured:
        name = configured.strip().upper()
        if name not in listener_names:
            raise ConfigError(_INTER_BROKER_LISTENER, f"{name} is not a listener in listeners")
        if name in controller_names:
            raise ConfigError(
                _INTER_BROKER_LISTENER, f"{name} is a controller listener ({_CONTROLLER_LISTENERS})"
            )
        return name
    if BROKER_ROLE not in roles:
        return None
    first = next((n for n in listener_names if n not in controller_names), None)
    if first is None:
        raise ConfigError(
            "listeners",
            "a node with the broker role needs a listener that is not a controller listener",
        )
    return first
