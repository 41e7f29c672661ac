"""Routes that act inside a cluster (topics, ACL bindings, cluster keys) reach it through here.

`ClusterAccessDep` finds the tenant's cluster (404 for anyone else's), requires it READY, and
hands out the control plane's admin client for it. `kafka_problems` turns the cluster's errors
into problem details: unreachable 503, invalid request 422 (code = Kafka's error name), and
anything else 502.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path

from strom.controlplane.api.deps import RuntimeDep, TenantScope, TenantScopeDep
from strom.controlplane.core.errors import (
    BadGateway,
    Conflict,
    NotFound,
    Unavailable,
    Unprocessable,
)
from strom.controlplane.core.runtime import Runtime
from strom.controlplane.kafka_admin import (
    ClusterUnavailable,
    KafkaAdmin,
    KafkaAdminError,
    RequestRejected,
    TopicAlreadyExists,
    UnknownTopic,
)
from strom.controlplane.models.clusters import ClusterRecord

CLUSTER_KIND = "Cluster"


@dataclass(frozen=True, slots=True)
class ClusterAccess:
    scope: TenantScope
    cluster: ClusterRecord
    admin: KafkaAdmin


def ready_cluster_admin(runtime: Runtime, cluster: ClusterRecord) -> KafkaAdmin:
    """The admin client of a READY cluster; 409 `cluster_not_ready` otherwise."""
    if not cluster.is_ready:
        raise Conflict(
            f"Cluster {cluster.id} is {cluster.public_phase}; this needs it READY.",
            code="cluster_not_ready",
        )
    return runtime.kafka_admins.get(cluster.id, cluster.admin_connection())


def cluster_access(
    cluster_id: Annotated[str, Path(description="The cluster's id (`clu-…`).")],
    scope: TenantScopeDep,
    runtime: RuntimeDep,
) -> ClusterAccess:
    cluster = scope.get(ClusterRecord, cluster_id, CLUSTER_KIND)
    return ClusterAccess(scope, cluster, ready_cluster_admin(runtime, cluster))


ClusterAccessDep = Annotated[ClusterAccess, Depends(cluster_access)]


@contextmanager
def kafka_problems(cluster_id: str, topic: str | None = None) -> Iterator[None]:
    """Answer the cluster's errors as problem details."""
    try:
        yield
    except ClusterUnavailable as error:
        raise Unavailable(
            f"Cluster {cluster_id} does not answer: {error}", code="cluster_unavailable"
        ) from error
    except TopicAlreadyExists as error:
        raise Conflict(
            f"Topic {topic!r} exists in cluster {cluster_id}.", code="topic_exists"
        ) from error
    except UnknownTopic as error:
        raise NotFound("Topic", topic or "?") from error
    except RequestRejected as error:
        raise Unprocessable(
            f"The cluster refused the request ({error.error_name}): {error}",
            code=error.error_name.lower(),
        ) from error
    except KafkaAdminError as error:
        raise BadGateway(
            f"Cluster {cluster_id} answered {error.error_name}: {error}", code="kafka_error"
        ) from error
