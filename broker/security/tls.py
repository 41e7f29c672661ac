"""TLS for SSL and SASL_SSL listeners, from PEM files; client certificate subjects become
principals the way Kafka's default principal builder names them."""

from __future__ import annotations

import os
import ssl
from typing import Any

from strom.broker.config.broker_config import BrokerConfig
from strom.broker.config.errors import ConfigError

_RDN_NAMES = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "localityName": "L",
    "stateOrProvinceName": "ST",
    "emailAddress": "EMAILADDRESS",
    "domainComponent": "DC",
}


def server_context(config: BrokerConfig) -> ssl.SSLContext:
    """The listeners' TLS context; a bad file or a key that does not match the
    certificate is a ConfigError naming the file."""
    values = config.values
    certificate = values["ssl.certificate.location"]
    key = values["ssl.key.location"]
    for name, path in (("ssl.certificate.location", certificate), ("ssl.key.location", key)):
        if not os.access(path, os.R_OK):
            raise ConfigError(name, f"cannot read {path}")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(certificate, key, password=values["ssl.key.password"] or None)
    except (ssl.SSLError, OSError) as error:
        raise ConfigError(
            "ssl.key.location",
            f"cannot use certificate {certificate} with key {key}: {error}",
        ) from None
    client_auth = values["ssl.client.auth"]
    if client_auth != "none":
        truststore = values["ssl.truststore.location"]
        if not truststore:
            raise ConfigError("ssl.truststore.location", "ssl.client.auth needs a truststore")
        try:
            context.load_verify_locations(truststore)
        except (ssl.SSLError, OSError) as error:
            raise ConfigError(
                "ssl.truststore.location", f"cannot read {truststore}: {error}"
            ) from None
        context.verify_mode = ssl.CERT_REQUIRED if client_auth == "required" else ssl.CERT_OPTIONAL
    return context


def principal_from_certificate(certificate: dict[str, Any] | None) -> str | None:
    """`User:CN=alice,OU=eng,O=acme` for a verified client certificate (RFC 2253 order:
    most specific first), None without one."""
    if not certificate or "subject" not in certificate:
        return None
    parts = []
    for rdn in reversed(certificate["subject"]):
        for name, value in rdn:
            parts.append(f"{_RDN_NAMES.get(name, name)}={value}")
    return "User:" + ",".join(parts) if parts else None
