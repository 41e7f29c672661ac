"""`/api/v1/tenants/{tenant_id}/clusters/{cluster_id}/topics`: topics, read from the cluster.

Every change goes to the cluster with the Kafka admin protocol (CreateTopics, CreatePartitions,
IncrementalAlterConfigs, DeleteTopics) and every answer is read back from it. New partitions
pass the tenant's `max_partitions` limit first; dry runs are validated by the cluster itself
(`validate_only`). Internal topics (`__consumer_offsets`) are neither shown nor counted.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from strom.controlplane.api.cluster_access import ClusterAccess, ClusterAccessDep, kafka_problems
from strom.controlplane.api.deps import MutationDep, PageDep, RuntimeDep
from strom.controlplane.api.limits import LIMIT_RESPONSES, require_within, tenant_guard, usage
from strom.controlplane.api.pagination import paginate_sorted
from strom.controlplane.api.route import StromRoute
from strom.controlplane.core.errors import NotFound, Unprocessable
from strom.controlplane.kafka_admin import TopicDescription
from strom.controlplane.models.topics import (
    ClusterObjectMetadata,
    Topic,
    TopicCreate,
    TopicList,
    TopicSpec,
    TopicStatus,
    TopicUpdate,
)

KIND = "Topic"
RESERVED_PREFIX = "__"

router = APIRouter(
    prefix="/api/v1/tenants/{tenant_id}/clusters/{cluster_id}/topics",
    tags=["topics"],
    route_class=StromRoute,
)


@router.post("", status_code=status.HTTP_201_CREATED, responses=LIMIT_RESPONSES)
def create_topic(
    body: TopicCreate, access: ClusterAccessDep, write: MutationDep, runtime: RuntimeDep
) -> Topic:
    """Create a topic; its partitions count against the tenant's `max_partitions`."""
    spec = body.spec
    if spec.name.startswith(RESERVED_PREFIX) or spec.name in (".", ".."):
        raise Unprocessable(
            f"Topic name {spec.name!r} is reserved: names starting with '__' are Kafka's "
            "internal topics, and '.' and '..' are not allowed.",
            code="topic_name_reserved",
        )
    cluster_id = access.cluster.id
    with tenant_guard(runtime, write.session, access.scope.tenant_id):
        _require_partitions(access, write, spec.partitions)
        with kafka_problems(cluster_id, spec.name):
            access.admin.create_topic(
                spec.name,
                spec.partitions,
                spec.replication_factor,
                spec.configs,
                validate_only=write.dry_run,
            )
            if write.dry_run:
                answer = _dry_run_topic(access, spec)
            else:
                answer = _read_topic(access, spec.name)
        access.cluster.partitions += spec.partitions
        write.session.add(access.cluster)
        write.commit()
    return answer


@router.get("")
def list_topics(request: Request, access: ClusterAccessDep, page: PageDep) -> TopicList:
    with kafka_problems(access.cluster.id):
        topics = [topic for topic in access.admin.list_topics() if not topic.internal]
        rows, metadata = paginate_sorted(topics, lambda topic: topic.name, page, request)
        configs = access.admin.topic_configs([topic.name for topic in rows])
    return TopicList(
        data=[_topic(access, topic, configs.get(topic.name, {})) for topic in rows],
        metadata=metadata,
    )


@router.get("/{topic_name}")
def get_topic(topic_name: str, access: ClusterAccessDep) -> Topic:
    with kafka_problems(access.cluster.id, topic_name):
        return _read_topic(access, topic_name)


@router.patch("/{topic_name}", responses=LIMIT_RESPONSES)
def update_topic(
    topic_name: str,
    body: TopicUpdate,
    access: ClusterAccessDep,
    write: MutationDep,
    runtime: RuntimeDep,
) -> Topic:
    """Add partitions (they count against `max_partitions`) or change configs."""
    cluster_id = access.cluster.id
    with tenant_guard(runtime, write.session, access.scope.tenant_id):
        with kafka_problems(cluster_id, topic_name):
            current = _describe(access, topic_name)
        wanted = body.spec.partitions
        added = 0
        if wanted is not None and wanted != current.partitions:
            if wanted < current.partitions:
                raise Unprocessable(
                    f"Topic {topic_name!r} has {current.partitions} partitions; Kafka cannot "
                    f"remove partitions, so {wanted} is not possible.",
                    code="partitions_cannot_shrink",
                )
            added = wanted - current.partitions
            _require_partitions(access, write, added)
        with kafka_problems(cluster_id, topic_name):
            if added:
                access.admin.create_partitions(topic_name, wanted or 0, validate_only=write.dry_run)
            if body.spec.configs:
                access.admin.alter_topic_configs(
                    topic_name, body.spec.configs, validate_only=write.dry_run
                )
            answer = _read_topic(access, topic_name)
        if added and not write.dry_run:
            access.cluster.partitions += added
            write.session.add(access.cluster)
        write.commit()
    return answer


@router.delete("/{topic_name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_topic(topic_name: str, access: ClusterAccessDep, write: MutationDep) -> Response:
    """Delete a topic and its data; its partitions no longer count against the limit."""
    with kafka_problems(access.cluster.id, topic_name):
        current = _describe(access, topic_name)
        if not write.dry_run:
            access.admin.delete_topic(topic_name)
    access.cluster.partitions = max(0, access.cluster.partitions - current.partitions)
    write.session.add(access.cluster)
    write.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _require_partitions(access: ClusterAccess, write: MutationDep, requested: int) -> None:
    """Check the limit with this cluster's partitions counted live (topics made by other
    Kafka tools count too) and the tenant's other clusters as they last reported."""
    with kafka_problems(access.cluster.id):
        live = sum(t.partitions for t in access.admin.list_topics() if not t.internal)
    used = usage(write.session, access.scope.tenant_id)
    used["max_partitions"] += live - access.cluster.partitions
    require_within(access.scope.tenant, used, "max_partitions", requested)
    access.cluster.partitions = live
    write.session.add(access.cluster)


def _describe(access: ClusterAccess, name: str) -> TopicDescription:
    topic = access.admin.describe_topic(name)
    if topic.internal:
        raise NotFound(KIND, name)
    return topic


def _read_topic(access: ClusterAccess, name: str) -> Topic:
    topic = _describe(access, name)
    return _topic(access, topic, access.admin.topic_configs([name]).get(name, {}))


def _topic(access: ClusterAccess, topic: TopicDescription, configs: dict[str, str]) -> Topic:
    return Topic(
        id=topic.name,
        metadata=_metadata(access),
        spec=TopicSpec(
            name=topic.name,
            partitions=topic.partitions,
            replication_factor=topic.replication_factor,
            configs=configs,
        ),
        status=TopicStatus(topic_id=topic.topic_id),
    )


def _dry_run_topic(access: ClusterAccess, spec: TopicSpec) -> Topic:
    return Topic(
        id=spec.name, metadata=_metadata(access), spec=spec, status=TopicStatus(topic_id="")
    )


def _metadata(access: ClusterAccess) -> ClusterObjectMetadata:
    return ClusterObjectMetadata(tenant_id=access.scope.tenant_id, cluster_id=access.cluster.id)
