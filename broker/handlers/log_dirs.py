"""DescribeLogDirs: which log directory holds each partition, and how big it is."""

from __future__ import annotations

import shutil
from collections import defaultdict
from typing import Any

from kio.schema.errors import ErrorCode

from strom.broker.handlers.context import RequestContext
from strom.broker.handlers.response_builder import NO_THROTTLE, make, response_module
from strom.broker.security.acls import AclOperation
from strom.broker.topic_partition import TopicPartition

API_KEY = 35


async def handle_describe_log_dirs(request: Any, ctx: RequestContext) -> Any:
    module = response_module(API_KEY, ctx.api_version)
    log_manager = ctx.services.log_manager
    if not ctx.allowed_on_cluster(AclOperation.DESCRIBE):
        return make(
            module.DescribeLogDirsResponse,
            throttle_time=NO_THROTTLE,
            error_code=ErrorCode.cluster_authorization_failed,
            results=(),
        )
    logs = log_manager.all_logs()
    if request.topics is None:
        wanted = set(logs)
    else:
        wanted = {
            TopicPartition(topic.topic, partition)
            for topic in request.topics
            for partition in topic.partitions
        }
    results = []
    for directory in log_manager.log_dirs:
        by_topic: dict[str, list[Any]] = defaultdict(list)
        for tp in sorted(wanted):
            partition_log = logs.get(tp)
            if partition_log is None or log_manager.log_dir_of(tp) != directory:
                continue
            by_topic[tp.topic].append(
                make(
                    module.DescribeLogDirsPartition,
                    partition_index=tp.partition,
                    partition_size=partition_log.size_bytes,
                    offset_lag=0,
                    is_future_key=False,
                )
            )
        try:
            usage = shutil.disk_usage(directory)
            total, usable, error = usage.total, usage.free, ErrorCode.none
        except OSError:
            total, usable, error = -1, -1, ErrorCode.kafka_storage_error
        results.append(
            make(
                module.DescribeLogDirsResult,
                error_code=error,
                log_dir=str(directory.resolve()),
                topics=tuple(
                    make(module.DescribeLogDirsTopic, name=name, partitions=tuple(partitions))
                    for name, partitions in by_topic.items()
                ),
                total_bytes=total,
                usable_bytes=usable,
            )
        )
    return make(
        module.DescribeLogDirsResponse,
        throttle_time=NO_THROTTLE,
        error_code=ErrorCode.none,
        results=tuple(results),
    )
