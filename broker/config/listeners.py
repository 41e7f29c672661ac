"""Kafka listener strings: `NAME://host:port`, with security protocols by listener name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from strom.broker.config.errors import ConfigError

SUPPORTED_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
KNOWN_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")


@dataclass(frozen=True, slots=True)
class Endpoint:
    listener_name: str
    security_protocol: str
    host: str  # "" binds every interface
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.listener_name}://{host}:{self.port}"


def parse_endpoints(
    key: str, items: Sequence[str], protocol_map: Mapping[str, str] | None = None
) -> tuple[Endpoint, ...]:
    """Parse and check a `listeners`-style list; raise ConfigError naming `key`."""
    endpoints = tuple(_parse_one(key, item, protocol_map or {}) for item in items)
    names = [endpoint.listener_name for endpoint in endpoints]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(key, f"listener name {duplicates[0]} appears more than once")
    return endpoints


def parse_protocol_map(pairs: Sequence[str]) -> dict[str, str]:
    """listener.security.protocol.map: NAME:PROTOCOL pairs, names upper-cased."""
    mapping = {}
    for pair in pairs:
        name, colon, protocol = pair.partition(":")
        if not colon:
            raise ConfigError("listener.security.protocol.map", f"{pair!r} is not NAME:PROTOCOL")
        mapping[name.strip().upper()] = protocol.strip().upper()
    return mapping


def parse_host_port(key: str, text: str) -> tuple[str, int]:
    """A plain `host:port` (IPv6 hosts in brackets); raise ConfigError naming `key`."""
    host, colon, port_text = text.rpartition(":")
    if not colon or not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ConfigError(key, f"{text!r} is not host:port")
    return host.strip("[]"), int(port_text)


def _parse_one(key: str, item: str, protocol_map: Mapping[str, str]) -> Endpoint:
    name, separator, address = item.partition("://")
    if not separator or not name:
        raise ConfigError(key, f"{item!r} is not of the form NAME://host:port")
    name = name.upper()
    host, colon, port_text = address.rpartition(":")
    if not colon:
        raise ConfigError(key, f"{item!r} has no port")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(key, f"{item!r} has a port that is not a number") from None
    if not 0 <= port <= 65535:
        raise ConfigError(key, f"{item!r} has a port outside 0-65535")
    protocol = protocol_map.get(name, name)
    if protocol not in KNOWN_PROTOCOLS:
        raise ConfigError(
            key, f"listener {name} has no security protocol; name it PLAINTEXT or map it"
        )
    if protocol not in SUPPORTED_PROTOCOLS:
        raise ConfigError(key, f"security protocol {protocol} is not supported yet")
    return Endpoint(name, protocol, host, port)
