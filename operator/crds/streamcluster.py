"""StreamCluster: a Kafka-compatible broker cluster that the operator runs as a StatefulSet."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from strom.operator.crds.base import (
    STORAGE_QUANTITY,
    Condition,
    CrdModel,
    KubeObject,
    ObjectMetaTemplate,
    Quantity,
)

# Keys the operator derives from the rest of the spec; a user value would break the cluster
# (a wrong node.id, listeners the Services do not expose), so they are refused, not merged.
OPERATOR_OWNED_KEYS = frozenset(
    {
        "node.id",
        "broker.id",
        "process.roles",
        "listeners",
        "advertised.listeners",
        "listener.security.protocol.map",
        "inter.broker.listener.name",
        "controller.listener.names",
        "controller.quorum.voters",
        "log.dir",
        "log.dirs",
        "metadata.log.dir",
        "broker.rack",
        "authorizer.class.name",
        "super.users",
    }
)
OPERATOR_OWNED_PREFIXES = (
    "listener.name.",
    "advertised.",
    "controller.quorum.",
    "ssl.",
    "sasl.",
    "strom.",
)

# Ports the broker pods use for themselves: the HTTP side port for probes and metrics, and
# the controller and replication listeners that multi-broker clusters will need (issue #4).
HTTP_PORT = 8080
CONTROLLER_PORT = 9090
REPLICATION_PORT = 9091
RESERVED_PORTS = frozenset({HTTP_PORT, CONTROLLER_PORT, REPLICATION_PORT})


class ResourceRequirements(CrdModel):
    """CPU and memory for each broker container, as in a pod spec."""

    requests: dict[str, Quantity] | None = None
    """Minimum resources, e.g. {cpu: 500m, memory: 1Gi}."""
    limits: dict[str, Quantity] | None = None
    """Maximum resources."""


class Storage(CrdModel):
    """One persistent volume per broker, claimed through the StatefulSet."""

    size: str = Field(
        max_length=32,
        pattern=STORAGE_QUANTITY,
        json_schema_extra={
            "x-kubernetes-validations": [
                {
                    "rule": "quantity(self).compareTo(quantity(oldSelf)) >= 0",
                    "message": "storage.size can only grow: shrinking a volume loses data",
                }
            ]
        },
    )
    """Size of each broker's volume, e.g. 100Gi. It can grow, never shrink."""
    storage_class_name: str | None = Field(default=None, max_length=253)
    """StorageClass of the volumes; the cluster's default class when unset."""
    delete_claim: bool = False
    """Delete the volumes when the StreamCluster is deleted (otherwise they are kept)."""


class ListenerAuthentication(CrdModel):
    """How clients authenticate on a listener."""

    type: Literal["scram-sha-512"]
    """scram-sha-512: SASL SCRAM-SHA-512 with the credentials of StreamUsers."""


class ExternalBootstrap(CrdModel):
    """The Service clients outside Kubernetes bootstrap through."""

    node_port: int | None = Field(default=None, ge=1, le=65535)
    """Fixed node port of a nodeport listener's bootstrap Service."""
    annotations: dict[str, str] | None = None
    """Annotations of the bootstrap Service, e.g. for a cloud load balancer."""


class BrokerOverride(CrdModel):
    """Per-broker settings of an external listener."""

    broker: int = Field(ge=0)
    """The broker's node id (its pod ordinal)."""
    advertised_host: str | None = Field(default=None, max_length=253)
    """Host name or address published to clients for this broker."""
    advertised_port: int | None = Field(default=None, ge=1, le=65535)
    """Port published to clients for this broker."""
    node_port: int | None = Field(default=None, ge=1, le=65535)
    """Fixed node port of this broker's Service (nodeport listeners)."""


class ListenerConfiguration(CrdModel):
    """Settings of external listeners."""

    bootstrap: ExternalBootstrap | None = None
    """The bootstrap Service."""
    brokers: list[BrokerOverride] | None = Field(default=None, max_length=100)
    """Per-broker advertised addresses and node ports."""


class Listener(CrdModel):
    """A port clients connect to, with its encryption, authentication and exposure."""

    name: str = Field(pattern=r"^[a-z][a-z0-9]{0,10}$")
    """Short lower-case name; the Kafka listener name is its upper-case form."""
    port: int = Field(ge=1024, le=65535)
    """Container port of the listener (8080, 9090 and 9091 are the operator's)."""
    type: Literal["internal", "nodeport", "loadbalancer"] = "internal"
    """internal (inside Kubernetes), nodeport or loadbalancer (outside)."""
    tls: bool = False
    """Encrypt with TLS, using the certificate in spec.tls."""
    authentication: ListenerAuthentication | None = None
    """Client authentication; none when unset."""
    configuration: ListenerConfiguration | None = None
    """External access settings (nodeport and loadbalancer listeners)."""

    @property
    def kafka_name(self) -> str:
        return self.name.upper()

    @property
    def security_protocol(self) -> str:
        if self.authentication is None:
            return "SSL" if self.tls else "PLAINTEXT"
        return "SASL_SSL" if self.tls else "SASL_PLAINTEXT"


class TlsCertificate(CrdModel):
    """The broker certificate for TLS listeners, from a Secret in the cluster's namespace."""

    secret_name: str = Field(min_length=1, max_length=253)
    """A Secret holding a PEM certificate chain and its private key."""
    certificate: str = "tls.crt"
    """Key of the certificate chain in the Secret."""
    key: str = "tls.key"
    """Key of the private key in the Secret."""


class Authorization(CrdModel):
    """ACL authorization with Kafka's semantics."""

    type: Literal["simple"] = "simple"
    """simple: Kafka ACLs (managed through StreamUsers)."""
    super_users: list[str] | None = Field(default=None, max_length=64)
    """User names allowed everything, e.g. [admin]."""


class Rack(CrdModel):
    """Spread brokers across failure domains."""

    topology_key: str = Field(default="topology.kubernetes.io/zone", max_length=253)
    """Node label naming a broker's failure domain; no two brokers share one when possible."""


class PodTemplate(CrdModel):
    """Overrides of the broker pods."""

    metadata: ObjectMetaTemplate | None = None
    """Extra labels and annotations of the pods."""
    tolerations: list[KubeObject] | None = None
    """Tolerations, as in a pod spec."""
    affinity: KubeObject | None = None
    """Affinity, as in a pod spec; replaces the rack anti-affinity."""
    node_selector: dict[str, str] | None = None
    """Node selector, as in a pod spec."""
    priority_class_name: str | None = None
    """PriorityClass of the pods."""
    termination_grace_period_seconds: int | None = Field(default=None, ge=0)
    """Time a broker gets for its controlled shutdown; 120 s when unset."""


class ResourceTemplate(CrdModel):
    """Overrides of one generated object."""

    metadata: ObjectMetaTemplate | None = None
    """Extra labels and annotations."""


class Template(CrdModel):
    """Overrides of the objects the operator generates."""

    pod: PodTemplate | None = None
    """The broker pods."""
    stateful_set: ResourceTemplate | None = None
    """The StatefulSet."""
    bootstrap_service: ResourceTemplate | None = None
    """The bootstrap Service."""
    brokers_service: ResourceTemplate | None = None
    """The headless Service of the brokers."""


def _default_listeners() -> list[Listener]:
    return [Listener(name="plain", port=9092)]


class StreamClusterSpec(CrdModel):
    """The desired broker cluster."""

    replicas: int = Field(default=1, ge=1, le=100)
    """Number of brokers; a broker's node id is its pod ordinal."""
    image: str | None = Field(default=None, max_length=512)
    """Broker image; the operator's default broker image when unset."""
    resources: ResourceRequirements | None = None
    """CPU and memory of each broker."""
    storage: Storage
    """Each broker's persistent volume."""
    config: dict[str, str | int | float | bool] | None = Field(
        default=None,
        json_schema_extra={
            "type": "object",
            "additionalProperties": {"x-kubernetes-preserve-unknown-fields": True},
            "maxProperties": 256,
        },
    )
    """Broker configs by their Kafka names, e.g. {num.partitions: 3}. Keys the operator
    owns (node.id, listeners, log.dirs, ssl.*, sasl.*, ...) are refused."""
    listeners: list[Listener] = Field(
        default_factory=_default_listeners,
        min_length=1,
        max_length=8,
        json_schema_extra={"default": [{"name": "plain", "port": 9092}]},
    )
    """Listeners; one plain internal listener on 9092 when unset."""
    tls: TlsCertificate | None = None
    """Broker certificate; required when a listener has tls: true."""
    authorization: Authorization | None = None
    """ACL authorization; everyone may do everything when unset."""
    rack: Rack | None = None
    """Rack awareness."""
    template: Template | None = None
    """Overrides of the generated objects."""

    @field_validator("config")
    @classmethod
    def _refuse_operator_owned_keys(
        cls, config: dict[str, str | int | float | bool] | None
    ) -> dict[str, str | int | float | bool] | None:
        owned = sorted(key for key in config or {} if is_operator_owned(key))
        if owned:
            raise ValueError(f"the operator sets these keys itself: {', '.join(owned)}")
        return config

    @model_validator(mode="after")
    def _check_listeners(self) -> Self:
        names = [listener.name for listener in self.listeners]
        ports = [listener.port for listener in self.listeners]
        if len(set(names)) != len(names):
            raise ValueError("listener names must be unique")
        if len(set(ports)) != len(ports):
            raise ValueError("listener ports must be unique")
        reserved = sorted(RESERVED_PORTS.intersection(ports))
        if reserved:
            raise ValueError(f"listener port {reserved[0]} is reserved for the operator")
        if any(listener.tls for listener in self.listeners) and self.tls is None:
            raise ValueError("a listener has tls: true, so spec.tls must name the certificate")
        return self


class ListenerStatus(CrdModel):
    """Where clients of one listener bootstrap."""

    name: str
    """The listener's name."""
    bootstrap_servers: str
    """host:port for bootstrap.servers."""


class StreamClusterStatus(CrdModel):
    """What the operator last observed and did."""

    phase: Literal["Pending", "Reconciling", "Ready", "Paused", "Failed"] | None = None
    """Pending, Reconciling, Ready, Paused or Failed."""
    conditions: list[Condition] | None = None
    """Ready, Reconciling, ReconciliationPaused."""
    observed_generation: int | None = None
    """The metadata.generation the operator last reconciled."""
    replicas: int | None = None
    """Brokers the StatefulSet runs."""
    ready_replicas: int | None = None
    """Brokers whose pods are ready."""
    selector: str | None = None
    """Label selector of the broker pods (for the scale subresource)."""
    bootstrap_servers: str | None = None
    """bootstrap.servers of the first internal listener."""
    listeners: list[ListenerStatus] | None = None
    """bootstrap.servers of every listener."""


def is_operator_owned(key: str) -> bool:
    """Whether a broker config key is derived by the operator and so refused in spec.config."""
    return key in OPERATOR_OWNED_KEYS or key.startswith(OPERATOR_OWNED_PREFIXES)
