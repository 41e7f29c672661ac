"""The one small interface every provisioning backend implements: create, scale, delete, status.

A backend runs clusters somewhere (`local`: broker processes on this machine; `kubernetes`:
custom resources for the operator). It knows nothing of tenants, limits or SQL: the reconciler
hands it the desired `ClusterSpec` and records what `status` reports. Every method is
idempotent, so the reconciler can repeat any step after a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class BackendPhase(StrEnum):
    ABSENT = "ABSENT"  # nothing of the cluster exists
    STOPPED = "STOPPED"  # its data exists, no broker runs
    STARTING = "STARTING"  # brokers run but do not accept connections yet
    RUNNING = "RUNNING"  # every broker accepts connections


@dataclass(frozen=True, slots=True)
class AdminCredential:
    """The control plane's own super user on a cluster (SASL/PLAIN)."""

    username: str
    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ClusterSpec:
    """What the reconciler asks a backend to run."""

    cluster_id: str
    plan: str
    brokers: int
    admin: AdminCredential


@dataclass(frozen=True, slots=True)
class ClusterState:
    """What a backend reports about one cluster."""

    phase: BackendPhase
    brokers: int = 0
    bootstrap_servers: tuple[str, ...] = ()
    message: str | None = None


class ProvisioningError(Exception):
    """The backend could not do what was asked; the message says why, for the tenant."""


class UnsupportedChange(ProvisioningError):
    """The backend cannot make this change at all (retrying will not help)."""


class Provisioner(Protocol):
    """A provisioning backend."""

    name: str

    async def create(self, spec: ClusterSpec) -> None:
        """Make the cluster run as `spec` says: create it, or start it again if it stopped."""
        ...

    async def scale(self, spec: ClusterSpec) -> None:
        """Change the broker count of a running cluster to `spec.brokers`."""
        ...

    async def delete(self, cluster_id: str) -> None:
        """Stop the cluster and remove all its data; nothing left is fine."""
        ...

    async def status(self, cluster_id: str) -> ClusterState: ...
