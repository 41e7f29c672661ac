"""Names, labels and DNS addresses of everything a StreamCluster owns.

One module, so builders, handlers and status agree on them; names are part of the contract
with users (bootstrap addresses, PVC names), so they never change once released.
"""

from __future__ import annotations

from dataclasses import dataclass

from strom.operator.crds.base import API_VERSION

# The StatefulSet's pods are `<cluster>-broker-<ordinal>` and carry a controller-revision-hash
# label (≤ 63 characters) built from the StatefulSet name; per-broker external Services add
# `-<ordinal>-<listener>`. 40 characters keeps every derived name within Kubernetes' limits.
MAX_CLUSTER_NAME = 40
DATA_VOLUME = "data"
DATA_DIR = "/var/lib/strom/data"
LOG_DIR = f"{DATA_DIR}/logs"
CONFIG_DIR = "/etc/strom/config"
TLS_DIR = "/etc/strom/tls"
MANAGED_BY = "strom-operator"


@dataclass(frozen=True, slots=True)
class ClusterIdentity:
    """Which StreamCluster the objects belong to (name, namespace and uid of the resource)."""

    name: str
    namespace: str
    uid: str

    @property
    def statefulset(self) -> str:
        return f"{self.name}-broker"

    @property
    def brokers_service(self) -> str:
        return f"{self.name}-brokers"

    @property
    def bootstrap_service(self) -> str:
        return f"{self.name}-bootstrap"

    @property
    def config_map(self) -> str:
        return f"{self.name}-broker-config"

    @property
    def service_account(self) -> str:
        return f"{self.name}-broker"

    @property
    def pod_disruption_budget(self) -> str:
        return f"{self.name}-broker"

    def pod(self, ordinal: int) -> str:
        return f"{self.statefulset}-{ordinal}"

    def pod_host(self, ordinal: int) -> str:
        """The broker's stable DNS name through the headless Service."""
        return f"{self.pod(ordinal)}.{self.brokers_service}.{self.namespace}.svc"

    def service_host(self, service: str) -> str:
        return f"{service}.{self.namespace}.svc"

    def external_bootstrap_service(self, listener: str) -> str:
        return f"{self.name}-{listener}-bootstrap"

    def external_broker_service(self, ordinal: int, listener: str) -> str:
        return f"{self.pod(ordinal)}-{listener}"

    def selector_labels(self) -> dict[str, str]:
        """Labels that select the broker pods; immutable in a StatefulSet, so never extended."""
        return {"strom.dev/cluster": self.name, "strom.dev/component": "broker"}

    def labels(self) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": "strom",
            "app.kubernetes.io/instance": self.name,
            "app.kubernetes.io/component": "broker",
            "app.kubernetes.io/part-of": "strom",
            "app.kubernetes.io/managed-by": MANAGED_BY,
            **self.selector_labels(),
        }

    def owner_reference(self) -> dict[str, object]:
        """Makes every object a dependent of the StreamCluster, so deleting it cascades."""
        return {
            "apiVersion": API_VERSION,
            "kind": "StreamCluster",
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def selector(self) -> str:
        return ",".join(f"{key}={value}" for key, value in self.selector_labels().items())
