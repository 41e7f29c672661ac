"""The broker's typed config, built from Kafka-style properties (file plus overrides)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from strom.broker.config.broker_keys import BROKER_KEYS, BROKER_KEYS_BY_NAME
from strom.broker.config.definitions import (
    BROKER_SYNONYM_CHAINS,
    ConfigEntry,
    ConfigKey,
    ConfigSource,
    ConfigSynonym,
)
from strom.broker.config.errors import ConfigError
from strom.broker.config.listeners import (
    Endpoint,
    parse_endpoints,
    parse_host_port,
    parse_protocol_map,
)
from strom.broker.config.quorum_config import (
    QuorumConfig,
    QuorumVoter,
    broker_advertised_listeners,
    parse_quorum_config,
)
from strom.broker.config.value_types import format_value, parse_value

__all__ = ["BrokerConfig", "ConfigError", "QuorumVoter"]

_MS_PER_UNIT = {"ms": 1, "minutes": 60_000, "hours": 3_600_000}


@dataclass(frozen=True, slots=True)
class BrokerConfig:
    """Every broker key's effective value (`values`), which keys were set (`supplied`),
    and the keys nobody here understands (`unknown_keys`, warned about, as Kafka does)."""

    values: Mapping[str, Any]
    supplied: Mapping[str, str]
    unknown_keys: frozenset[str]
    listeners: tuple[Endpoint, ...]
    advertised_listeners: tuple[Endpoint, ...]
    http_listener: tuple[str, int] | None
    quorum: QuorumConfig

    @classmethod
    def from_properties(cls, properties: Mapping[str, str]) -> BrokerConfig:
        values: dict[str, Any] = {}
        for key in BROKER_KEYS:
            raw = properties.get(key.name)
            values[key.name] = key.default if raw is None else _parse(key, raw)
        _derive(values)
        _check_replica_timeouts(values)
        protocol_map = parse_protocol_map(values["listener.security.protocol.map"])
        listeners = parse_endpoints("listeners", values["listeners"], protocol_map)
        if not listeners:
            raise ConfigError("listeners", "at least one listener is required")
        advertised = listeners
        if values["advertised.listeners"]:
            advertised = parse_endpoints(
                "advertised.listeners", values["advertised.listeners"], protocol_map
            )
            unknown = {e.listener_name for e in advertised} - {e.listener_name for e in listeners}
            if unknown:
                raise ConfigError(
                    "advertised.listeners", f"listener {sorted(unknown)[0]} is not in listeners"
                )
        quorum = parse_quorum_config(values, int(values["node.id"]), listeners, protocol_map)
        advertised = broker_advertised_listeners(advertised, quorum)
        if quorum.is_broker and not advertised:
            raise ConfigError(
                "advertised.listeners",
                "a broker must publish a listener that is not a controller's",
            )
        protocols = {endpoint.security_protocol for endpoint in listeners}
        if protocols & {"SSL", "SASL_SSL"} and not (
            values["ssl.certificate.location"] and values["ssl.key.location"]
        ):
            raise ConfigError(
                "ssl.certificate.location",
                "SSL listeners need ssl.certificate.location and ssl.key.location (PEM files)",
            )
        _plain_users(values["strom.sasl.plain.users"])  # fail early on a malformed list
        http = values["strom.http.listener"]
        return cls(
            values=values,
            supplied=dict(properties),
            unknown_keys=frozenset(k for k in properties if k not in BROKER_KEYS_BY_NAME),
            listeners=listeners,
            advertised_listeners=advertised,
            http_listener=parse_host_port("strom.http.listener", http) if http else None,
            quorum=quorum,
        )

    def describe(self) -> list[ConfigEntry]:
        """Every broker key as DescribeConfigs shows it (read-only: no dynamic configs yet)."""
        entries = []
        for key in BROKER_KEYS:
            supplied = key.name in self.supplied
            source = ConfigSource.STATIC_BROKER_CONFIG if supplied else ConfigSource.DEFAULT_CONFIG
            value = format_value(key.type, self.values[key.name])
            entries.append(
                ConfigEntry(
                    name=key.name,
                    value=value,
                    source=source,
                    read_only=True,
                    is_default=not supplied,
                    sensitive=key.sensitive,
                    synonyms=self.synonyms_of(key.name),
                    type=key.type,
                    documentation=key.doc,
                )
            )
        return entries

    def synonyms_of(self, broker_key: str) -> tuple[ConfigSynonym, ...]:
        """The broker keys that decide `broker_key`, most specific first (Kafka's order)."""
        chain = BROKER_SYNONYM_CHAINS.get(broker_key, (broker_key,))
        synonyms = []
        for name in chain:
            key = BROKER_KEYS_BY_NAME[name]
            if name in self.supplied:
                value = format_value(key.type, _parse(key, self.supplied[name]))
                synonyms.append(ConfigSynonym(name, value, ConfigSource.STATIC_BROKER_CONFIG))
        last = BROKER_KEYS_BY_NAME[chain[-1]]
        if last.default is not None:
            synonyms.append(
                ConfigSynonym(
                    last.name, format_value(last.type, last.default), ConfigSource.DEFAULT_CONFIG
                )
            )
        return tuple(synonyms)

    def is_supplied(self, broker_key: str) -> bool:
        chain = BROKER_SYNONYM_CHAINS.get(broker_key, (broker_key,))
        return any(name in self.supplied for name in chain)

    # -- typed accessors used across the broker ---------------------------------------------

    @property
    def node_id(self) -> int:
        return int(self.values["node.id"])

    @property
    def log_dirs(self) -> tuple[str, ...]:
        return tuple(self.values["log.dirs"])

    @property
    def metadata_log_dir(self) -> str:
        return str(self.values["metadata.log.dir"])

    @property
    def num_partitions(self) -> int:
        return int(self.values["num.partitions"])

    @property
    def default_replication_factor(self) -> int:
        return int(self.values["default.replication.factor"])

    @property
    def auto_create_topics_enable(self) -> bool:
        return bool(self.values["auto.create.topics.enable"])

    @property
    def delete_topic_enable(self) -> bool:
        return bool(self.values["delete.topic.enable"])

    @property
    def log_retention_ms(self) -> int:
        return int(self.values["log.retention.ms"])

    @property
    def log_retention_bytes(self) -> int:
        return int(self.values["log.retention.bytes"])

    @property
    def log_segment_bytes(self) -> int:
        return int(self.values["log.segment.bytes"])

    @property
    def log_roll_ms(self) -> int:
        return int(self.values["log.roll.ms"])

    @property
    def log_cleanup_policy(self) -> tuple[str, ...]:
        return tuple(self.values["log.cleanup.policy"])

    @property
    def message_max_bytes(self) -> int:
        return int(self.values["message.max.bytes"])

    @property
    def log_flush_interval_messages(self) -> int:
        return int(self.values["log.flush.interval.messages"])

    @property
    def log_flush_interval_ms(self) -> int:
        return int(self.values["log.flush.interval.ms"])

    @property
    def log_flush_scheduler_interval_ms(self) -> int:
        return int(self.values["log.flush.scheduler.interval.ms"])

    @property
    def log_retention_check_interval_ms(self) -> int:
        return int(self.values["log.retention.check.interval.ms"])

    @property
    def log_cleaner_enable(self) -> bool:
        return bool(self.values["log.cleaner.enable"])

    @property
    def log_cleaner_backoff_ms(self) -> int:
        return int(self.values["log.cleaner.backoff.ms"])

    @property
    def log_index_interval_bytes(self) -> int:
        return int(self.values["log.index.interval.bytes"])

    @property
    def log_index_size_max_bytes(self) -> int:
        return int(self.values["log.index.size.max.bytes"])

    @property
    def log_message_timestamp_type(self) -> str:
        return str(self.values["log.message.timestamp.type"])

    @property
    def compression_type(self) -> str:
        return str(self.values["compression.type"])

    @property
    def min_insync_replicas(self) -> int:
        return int(self.values["min.insync.replicas"])

    @property
    def socket_request_max_bytes(self) -> int:
        return int(self.values["socket.request.max.bytes"])

    @property
    def sasl_enabled_mechanisms(self) -> tuple[str, ...]:
        return tuple(self.values["sasl.enabled.mechanisms"])

    @property
    def sasl_plain_users(self) -> dict[str, str]:
        return _plain_users(self.values["strom.sasl.plain.users"])

    @property
    def authorizer_enabled(self) -> bool:
        return bool(self.values["authorizer.class.name"])

    @property
    def super_users(self) -> frozenset[str]:
        text = str(self.values["super.users"] or "")
        return frozenset(item.strip() for item in text.split(";") if item.strip())

    @property
    def allow_everyone_if_no_acl_found(self) -> bool:
        return bool(self.values["allow.everyone.if.no.acl.found"])

    @property
    def broker_rack(self) -> str | None:
        rack = self.values["broker.rack"]
        return str(rack) if rack else None

    # -- the cluster: roles, controller quorum, replication ---------------------------------

    @property
    def process_roles(self) -> frozenset[str]:
        return self.quorum.process_roles

    @property
    def is_broker(self) -> bool:
        return self.quorum.is_broker

    @property
    def is_controller(self) -> bool:
        return self.quorum.is_controller

    @property
    def quorum_voters(self) -> tuple[QuorumVoter, ...]:
        """The configured voters; empty for the single-node quorum (see quorum_voter_ids)."""
        return self.quorum.voters

    @property
    def quorum_voter_ids(self) -> frozenset[int]:
        """Node ids of the voters: this node alone when controller.quorum.voters is unset."""
        if not self.quorum.voters:
            return frozenset({self.node_id})
        return frozenset(voter.node_id for voter in self.quorum.voters)

    @property
    def controller_listener_names(self) -> tuple[str, ...]:
        return self.quorum.controller_listener_names

    @property
    def inter_broker_listener_name(self) -> str | None:
        """None only on a node without the broker role."""
        return self.quorum.inter_broker_listener_name

    @property
    def offsets_topic_replication_factor(self) -> int:
        """The configured factor, except 1 in a single-node cluster (no voters configured)."""
        configured = int(self.values["offsets.topic.replication.factor"])
        return configured if self.quorum.voters else 1

    @property
    def unclean_leader_election_enable(self) -> bool:
        return bool(self.values["unclean.leader.election.enable"])

    @property
    def replica_lag_time_max_ms(self) -> int:
        return int(self.values["replica.lag.time.max.ms"])

    @property
    def replica_fetch_max_bytes(self) -> int:
        return int(self.values["replica.fetch.max.bytes"])

    @property
    def replica_fetch_wait_max_ms(self) -> int:
        return int(self.values["replica.fetch.wait.max.ms"])

    @property
    def replica_fetch_min_bytes(self) -> int:
        return int(self.values["replica.fetch.min.bytes"])

    @property
    def replica_fetch_response_max_bytes(self) -> int:
        return int(self.values["replica.fetch.response.max.bytes"])

    @property
    def replica_fetch_backoff_ms(self) -> int:
        return int(self.values["replica.fetch.backoff.ms"])

    @property
    def replica_socket_timeout_ms(self) -> int:
        return int(self.values["replica.socket.timeout.ms"])

    @property
    def broker_session_timeout_ms(self) -> int:
        return int(self.values["broker.session.timeout.ms"])

    @property
    def broker_heartbeat_interval_ms(self) -> int:
        return int(self.values["broker.heartbeat.interval.ms"])

    @property
    def controlled_shutdown_enable(self) -> bool:
        return bool(self.values["controlled.shutdown.enable"])


def _parse(key: ConfigKey, raw: str) -> Any:
    try:
        value = parse_value(key.type, raw)
    except ValueError as error:
        raise ConfigError(key.name, str(error)) from None
    if key.validator is not None:
        problem = key.validator(value)
        if problem:
            raise ConfigError(key.name, f"{raw.strip()!r} {problem}")
    return value


def _derive(values: dict[str, Any]) -> None:
    """Fill the keys Kafka derives from others (log.dirs from log.dir, retention.ms from
    minutes or hours, ...), so every consumer reads one effective value."""
    if not values["log.dirs"]:
        values["log.dirs"] = (values["log.dir"],)
    if not values["metadata.log.dir"]:
        values["metadata.log.dir"] = values["log.dirs"][0]
    if values["log.retention.ms"] is None:
        if values["log.retention.minutes"] is not None:
            values["log.retention.ms"] = values["log.retention.minutes"] * _MS_PER_UNIT["minutes"]
        else:
            values["log.retention.ms"] = values["log.retention.hours"] * _MS_PER_UNIT["hours"]
    if values["log.retention.ms"] < -1:
        raise ConfigError("log.retention.ms", "must be -1 (keep forever) or at least 0")
    if values["log.roll.ms"] is None:
        values["log.roll.ms"] = values["log.roll.hours"] * _MS_PER_UNIT["hours"]
    if values["log.flush.interval.ms"] is None:
        values["log.flush.interval.ms"] = values["log.flush.scheduler.interval.ms"]


def _check_replica_timeouts(values: dict[str, Any]) -> None:
    """A follower's fetch may wait replica.fetch.wait.max.ms, so its timeouts must allow it."""
    wait = values["replica.fetch.wait.max.ms"]
    for key in ("replica.socket.timeout.ms", "replica.lag.time.max.ms"):
        if values[key] < wait:
            raise ConfigError(key, f"must be at least replica.fetch.wait.max.ms ({wait})")


def _plain_users(text: str | None) -> dict[str, str]:
    users: dict[str, str] = {}
    for pair in (text or "").split(","):
        if not pair.strip():
            continue
        user, colon, password = pair.strip().partition(":")
        if not colon or not user:
            # Never echo the value: it holds passwords.
            raise ConfigError("strom.sasl.plain.users", "expected user:password pairs")
        users[user] = password
    return users
