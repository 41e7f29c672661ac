"""ElectLeaders, AlterPartitionReassignments (ALTER on the cluster) and
ListPartitionReassignments (DESCRIBE on the cluster): moving leaders and replicas."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.controller.elections import ElectionType
from strom.broker.controller.errors import ControllerError
from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.errors import error_code_for
from strom.broker.handlers.response_builder import NO_THROTTLE, make, response_module
from strom.broker.security.acls import AclOperation
from strom.broker.topic_partition import TopicPartition

ELECT_LEADERS_KEY = 43
ALTER_REASSIGNMENTS_KEY = 45
LIST_REASSIGNMENTS_KEY = 46

_UNAUTHORIZED = (ErrorCode.cluster_authorization_failed, "Cluster authorization failed.")
Outcome = tuple[ErrorCode, str | None]


async def handle_elect_leaders(request: Any, ctx: RequestContext) -> Any:
    module = response_module(ELECT_LEADERS_KEY, ctx.api_version)
    requested = (
        None
        if request.topic_partitions is None
        else [
            TopicPartition(t.topic, int(p)) for t in request.topic_partitions for p in t.partitions
        ]
    )
    election_type = int(getattr(request, "election_type", ElectionType.PREFERRED))
    refusal: Outcome | None = None
    if not ctx.allowed_on_cluster(AclOperation.ALTER):
        refusal = _UNAUTHORIZED
    elif election_type not in tuple(ElectionType):
        refusal = (ErrorCode.invalid_request, f"Unknown election type {election_type}.")
    if refusal is not None:
        outcomes: dict[TopicPartition, Outcome] = dict.fromkeys(requested or (), refusal)
    else:
        results = await ctx.services.active_controller.run(
            lambda c: c.elect_leaders(ElectionType(election_type), requested)
        )
        outcomes = {tp: _outcome(error) for tp, error in results.items()}
    return make(
        module.ElectLeadersResponse,
        throttle_time=NO_THROTTLE,
        error_code=refusal[0] if refusal is not None else ErrorCode.none,
        replica_election_results=tuple(
            make(
                module.ReplicaElectionResult,
                topic=topic,
                partition_result=tuple(
                    make(
                        module.PartitionResult,
                        partition_id=partition,
                        error_code=code,
                        error_message=message,
                    )
                    for partition, (code, message) in partitions
                ),
            )
            for topic, partitions in _by_topic(outcomes)
        ),
    )


async def handle_alter_partition_reassignments(request: Any, ctx: RequestContext) -> Any:
    module = response_module(ALTER_REASSIGNMENTS_KEY, ctx.api_version)
    targets = {
        TopicPartition(topic.name, int(partition.partition_index)): (
            None if partition.replicas is None else tuple(int(r) for r in partition.replicas)
        )
        for topic in request.topics
        for partition in topic.partitions
    }
    refusal: Outcome | None = None
    if not ctx.allowed_on_cluster(AclOperation.ALTER):
        refusal = _UNAUTHORIZED
        outcomes: dict[TopicPartition, Outcome] = dict.fromkeys(targets, refusal)
    else:
        results = await ctx.services.active_controller.run(
            lambda c: c.alter_partition_reassignments(targets)
        )
        outcomes = {tp: _outcome(error) for tp, error in results.items()}
    return make(
        module.AlterPartitionReassignmentsResponse,
        throttle_time=NO_THROTTLE,
        error_code=refusal[0] if refusal is not None else ErrorCode.none,
        error_message=refusal[1] if refusal is not None else None,
        responses=tuple(
            make(
                module.ReassignableTopicResponse,
                name=topic,
                partitions=tuple(
                    make(
                        module.ReassignablePartitionResponse,
                        partition_index=partition,
                        error_code=code,
                        error_message=message,
                    )
                    for partition, (code, message) in partitions
                ),
            )
            for topic, partitions in _by_topic(outcomes)
        ),
    )


async def handle_list_partition_reassignments(request: Any, ctx: RequestContext) -> Any:
    module = response_module(LIST_REASSIGNMENTS_KEY, ctx.api_version)
    if not ctx.allowed_on_cluster(AclOperation.DESCRIBE):
        return make(
            module.ListPartitionReassignmentsResponse,
            throttle_time=NO_THROTTLE,
            error_code=_UNAUTHORIZED[0],
            error_message=_UNAUTHORIZED[1],
            topics=(),
        )
    wanted = (
        None
        if request.topics is None
        else {TopicPartition(t.name, int(p)) for t in request.topics for p in t.partition_indexes}
    )
    ongoing = ctx.services.controller.list_partition_reassignments(wanted)
    by_topic: dict[str, list[Any]] = defaultdict(list)
    for move in ongoing:
        by_topic[move.topic_partition.topic].append(
            make(
                module.OngoingPartitionReassignment,
                partition_index=move.topic_partition.partition,
                replicas=move.replicas,
                adding_replicas=move.adding_replicas,
                removing_replicas=move.removing_replicas,
            )
        )
    return make(
        module.ListPartitionReassignmentsResponse,
        throttle_time=NO_THROTTLE,
        error_code=ErrorCode.none,
        error_message=None,
        topics=tuple(
            make(module.OngoingTopicReassignment, name=name, partitions=tuple(partitions))
            for name, partitions in by_topic.items()
        ),
    )


def _outcome(error: ControllerError | None) -> Outcome:
    return (ErrorCode.none, None) if error is None else (error_code_for(error), str(error))


def _by_topic(
    outcomes: Mapping[TopicPartition, Outcome],
) -> Iterable[tuple[str, list[tuple[int, Outcome]]]]:
    grouped: dict[str, list[tuple[int, Outcome]]] = defaultdict(list)
    for tp, outcome in outcomes.items():
        grouped[tp.topic].append((tp.partition, outcome))
    return grouped.items()
