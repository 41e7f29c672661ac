"""Each broker's server.properties, derived from the spec and the broker's pod ordinal.

Every broker gets its own file in the cluster's ConfigMap (`<pod>.properties`) and the pod
reads the one named after itself, so node.id and the advertised addresses need no start-up
script. Every broker is also a controller voter (combined roles); the quorum talks on a
CONTROLLER listener on the operator's controller port, never published to clients.
"""

from __future__ import annotations

from strom.operator.crds.streamcluster import (
    CONTROLLER_PORT,
    HTTP_PORT,
    Listener,
    StreamClusterSpec,
)
from strom.operator.streamcluster.naming import LOG_DIR, TLS_DIR, ClusterIdentity

AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
CONTROLLER_LISTENER = "CONTROLLER"


def broker_properties(
    cluster: ClusterIdentity, spec: StreamClusterSpec, ordinal: int
) -> dict[str, str]:
    """The broker's config: the keys the operator owns first, then the user's, sorted."""
    properties = {
        "node.id": str(ordinal),
        "process.roles": "broker,controller",
        "controller.quorum.voters": quorum_voters(cluster, spec.replicas),
        "controller.listener.names": CONTROLLER_LISTENER,
        "listeners": ",".join(
            [f"{item.kafka_name}://:{item.port}" for item in spec.listeners]
            + [f"{CONTROLLER_LISTENER}://:{CONTROLLER_PORT}"]
        ),
        "advertised.listeners": ",".join(
            f"{item.kafka_name}://{_advertised(cluster, item, ordinal)}" for item in spec.listeners
        ),
        "listener.security.protocol.map": ",".join(
            [f"{item.kafka_name}:{item.security_protocol}" for item in spec.listeners]
            + [f"{CONTROLLER_LISTENER}:PLAINTEXT"]
        ),
        "log.dirs": LOG_DIR,
        "strom.http.listener": f"0.0.0.0:{HTTP_PORT}",
    }
    if spec.tls is not None:
        properties["ssl.certificate.location"] = f"{TLS_DIR}/{spec.tls.certificate}"
        properties["ssl.key.location"] = f"{TLS_DIR}/{spec.tls.key}"
    if any(listener.authentication is not None for listener in spec.listeners):
        properties["sasl.enabled.mechanisms"] = "SCRAM-SHA-512"
    if spec.authorization is not None:
        properties["authorizer.class.name"] = AUTHORIZER
        users = spec.authorization.super_users or []
        if users:
            properties["super.users"] = ";".join(f"User:{user}" for user in users)
    config = spec.config or {}
    for key in sorted(config):
        properties[key] = _kafka_value(config[key])
    return properties


def quorum_voters(cluster: ClusterIdentity, replicas: int) -> str:
    """`id@host:port` of every broker: all brokers are voters (combined roles), id = ordinal."""
    return ",".join(
        f"{ordinal}@{cluster.pod_host(ordinal)}:{CONTROLLER_PORT}" for ordinal in range(replicas)
    )


def render_properties(properties: dict[str, str], comment: str) -> str:
    """A Java properties file, escaped so the broker's parser reads back the same values."""
    lines = [f"# {comment}"]
    lines += [f"{_escape(key, is_key=True)}={_escape(value)}" for key, value in properties.items()]
    return "\n".join(lines) + "\n"


def _advertised(cluster: ClusterIdentity, listener: Listener, ordinal: int) -> str:
    if listener.type == "internal":
        return f"{cluster.pod_host(ordinal)}:{listener.port}"
    override = next(
        (
            item
            for item in (listener.configuration and listener.configuration.brokers) or []
            if item.broker == ordinal
        ),
        None,
    )
    # Without an advertised address, the broker's own external Service name is published:
    # reachable inside Kubernetes only. Discovering node and load-balancer addresses is a
    # later step of issue #7.
    host = (override and override.advertised_host) or cluster.service_host(
        cluster.external_broker_service(ordinal, listener.name)
    )
    port = (override and override.advertised_port) or listener.port
    return f"{host}:{port}"


def _kafka_value(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _escape(text: str, *, is_key: bool = False) -> str:
    out = []
    for index, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif char == "\t":
            out.append("\\t")
        elif (is_key and char in "=: ") or (char == " " and index == 0):
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)
