"""Kafka clients for `strom produce|consume`: settings from the selected cluster and key.

The bootstrap servers, security protocol and SASL mechanism come from the cluster
(`GET .../clusters/{id}`), the SASL username from the cluster key (`GET .../api-keys/{id}`),
and the password is the key's secret, which the API never shows again: it comes from
`--api-key/--api-secret`, or from the context where `strom api-key create --use` (or
`strom api-key use`) stored it. Kafka's errors become `CliError`s with the CLI's exit codes.
"""

from __future__ import annotations

import logging
from typing import Any

from confluent_kafka import KafkaError

from strom.cli import output
from strom.cli.errors import EXIT_FAILED, EXIT_NOT_FOUND, EXIT_UNAUTHORIZED, CliError, UsageError
from strom.cli.session import Session
from strom.cli.settings import Setting

_UNAUTHORIZED = frozenset(
    {
        KafkaError.TOPIC_AUTHORIZATION_FAILED,
        KafkaError.GROUP_AUTHORIZATION_FAILED,
        KafkaError.CLUSTER_AUTHORIZATION_FAILED,
        KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
        KafkaError.SASL_AUTHENTICATION_FAILED,
        KafkaError._AUTHENTICATION,
    }
)
_NOT_FOUND = frozenset({KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_TOPIC})


def client_settings(
    session: Session, cluster: str | None, api_key: str | None, api_secret: str | None
) -> dict[str, Any]:
    """librdkafka settings for the cluster in effect, authenticated with a cluster key."""
    cluster_id = session.cluster_id(cluster)
    client = session.client()
    found = client.get(session.tenant_path("clusters", cluster_id))
    status = found["status"]
    if status["phase"] != "READY" or not status["bootstrap_servers"]:
        raise CliError(f"cluster {found['spec']['name']} is {status['phase']}, not READY")
    key_id, secret = _key(session, cluster_id, api_key, api_secret)
    key = client.get(session.tenant_path("api-keys", key_id))
    if key["spec"]["scope"] != "cluster" or key["spec"]["cluster_id"] != cluster_id:
        raise UsageError(
            f"API key {key_id} is not a key of cluster {cluster_id}: create one with "
            f"`strom api-key create --service-account NAME --cluster {cluster_id} --use`"
        )
    return {
        "bootstrap.servers": ",".join(status["bootstrap_servers"]),
        "security.protocol": status["security_protocol"],
        "sasl.mechanism": status["sasl_mechanism"],
        "sasl.username": key["status"]["kafka"]["sasl_username"],
        "sasl.password": secret,
        # librdkafka would write its connection logs straight to stderr; they show with -v.
        "logger": _logger(session.options.verbose),
    }


def kafka_failure(error: KafkaError, doing: str) -> CliError:
    """A Kafka error as one line and an exit code (4 unauthorized, 3 unknown topic)."""
    code = error.code()
    if code in _UNAUTHORIZED:
        exit_code = EXIT_UNAUTHORIZED
    elif code in _NOT_FOUND:
        exit_code = EXIT_NOT_FOUND
    else:
        exit_code = EXIT_FAILED
    return CliError(f"{doing}: {error.name()}: {error.str()}", exit_code)


def _logger(verbose: bool) -> logging.Logger:
    logger = logging.getLogger("strom.cli.kafka")
    logger.propagate = False
    if not logger.handlers:
        logger.addHandler(output.LogLines())
    logger.setLevel(logging.DEBUG if verbose else logging.CRITICAL + 1)
    return logger


def _key(
    session: Session, cluster_id: str, api_key: str | None, api_secret: str | None
) -> tuple[str, str]:
    if api_key or api_secret:
        if not (api_key and api_secret):
            raise UsageError("pass --api-key and --api-secret together")
        session.show("api key", Setting(api_key, "--api-key"))
        return api_key, api_secret
    effective = session.effective()
    stored = effective.in_context().get("cluster_keys", {}).get(cluster_id)
    if not stored:
        raise UsageError(
            f"no API key for cluster {cluster_id}: pass --api-key and --api-secret, or store "
            f"one with `strom api-key create --service-account NAME --cluster {cluster_id} "
            "--use`"
        )
    session.show("api key", Setting(stored["api_key"], f"context {effective.context.value!r}"))
    return str(stored["api_key"]), str(stored["api_secret"])
