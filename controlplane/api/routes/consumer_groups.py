"""`/api/v1/tenants/{tenant_id}/clusters/{cluster_id}/consumer-groups`: the cluster's
consumer groups with their lag, read through the Kafka admin protocol (read-only)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from strom.controlplane.api.cluster_access import ClusterAccess, ClusterAccessDep, kafka_problems
from strom.controlplane.api.deps import PageDep
from strom.controlplane.api.pagination import paginate_sorted
from strom.controlplane.api.route import StromRoute
from strom.controlplane.core.errors import NotFound
from strom.controlplane.models.consumer_groups import (
    ConsumerGroup,
    ConsumerGroupList,
    ConsumerGroupSpec,
    ConsumerGroupStatus,
    PartitionLagStatus,
)
from strom.controlplane.models.topics import ClusterObjectMetadata

KIND = "ConsumerGroup"
_GONE = "DEAD"

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/clusters/{cluster_id}/consumer-groups",
    tags=["consumer-groups"],
    route_class=StromRoute,
)


@router.get("")
def list_consumer_groups(
    request: Request, access: ClusterAccessDep, page: PageDep
) -> ConsumerGroupList:
    with kafka_problems(access.cluster.id):
        groups = access.admin.consumer_groups()
    rows, metadata = paginate_sorted(groups, lambda group: group.group_id, page, request)
    return ConsumerGroupList(
        data=[
            ConsumerGroup(
                id=group.group_id,
                metadata=_metadata(access),
                spec=ConsumerGroupSpec(group_id=group.group_id),
                status=ConsumerGroupStatus(state=group.state),
            )
            for group in rows
        ],
        metadata=metadata,
    )


@router.get("/{group_id}")
def get_consumer_group(group_id: str, access: ClusterAccessDep) -> ConsumerGroup:
    """The group's state, member count and, per committed partition, its lag."""
    with kafka_problems(access.cluster.id):
        group = access.admin.consumer_group(group_id)
    if group.state == _GONE and not group.partitions:
        raise NotFound(KIND, group_id)
    return ConsumerGroup(
        id=group.group_id,
        metadata=_metadata(access),
        spec=ConsumerGroupSpec(group_id=group.group_id),
        status=ConsumerGroupStatus(
            state=group.state,
            members=group.members,
            total_lag=group.total_lag,
            partitions=[
                PartitionLagStatus(
                    topic=p.topic,
                    partition=p.partition,
                    committed_offset=p.committed_offset,
                    log_end_offset=p.log_end_offset,
                    lag=p.lag,
                )
                for p in group.partitions
            ],
        ),
    )


def _metadata(access: ClusterAccess) -> ClusterObjectMetadata:
    return ClusterObjectMetadata(tenant_id=access.scope.tenant_id, cluster_id=access.cluster.id)
