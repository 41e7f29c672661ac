"""Tests for broker/log/manager.py: partition directories, clean shutdown and reload."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from strom.broker.clock import ManualClock
from strom.broker.kafka_uuid import to_base64
from strom.broker.log.errors import LogStorageError
from strom.broker.log.manager import (
    CLEAN_SHUTDOWN_FILE,
    HIGH_WATERMARK_FILE,
    LOG_START_OFFSET_FILE,
    PARTITION_METADATA_FILE,
    RECOVERY_POINT_FILE,
    LogManager,
    LogManagerSettings,
)
from strom.broker.log.partition_log import LogConfig
from strom.broker.topic_partition import TopicPartition
from tests.broker.log.batches import batch_of, values_in
from tests.broker.log.log_config import SimpleLogConfig

ORDERS_0 = TopicPartition("orders", 0)
ORDERS_1 = TopicPartition("orders", 1)
TOPIC_ID = uuid.UUID("6f6c6f67-2d6d-616e-6167-657220746573")
CONFIG = SimpleLogConfig()

Expected = Callable[[TopicPartition], tuple[uuid.UUID, LogConfig] | None]


def manager(*log_dirs: Path) -> LogManager:
    settings = LogManagerSettings(
        log_dirs=log_dirs, retention_check_interval_ms=300_000, flush_scheduler_interval_ms=1000
    )
    return LogManager(settings, ManualClock())


def expecting(*partitions: TopicPartition, topic_id: uuid.UUID = TOPIC_ID) -> Expected:
    def expected(tp: TopicPartition) -> tuple[uuid.UUID, LogConfig] | None:
        return (topic_id, CONFIG) if tp in partitions else None

    return expected


def test_get_or_create_makes_a_topic_partition_directory(tmp_path: Path) -> None:
    logs = manager(tmp_path)

    partition_log = logs.get_or_create(ORDERS_0, TOPIC_ID, CONFIG)

    directory = tmp_path / "orders-0"
    assert partition_log.directory == directory
    assert (directory / "00000000000000000000.log").exists()
    assert (directory / PARTITION_METADATA_FILE).read_text() == (
        f"version: 0\ntopic_id: {to_base64(TOPIC_ID)}\n"
    )
    assert logs.get(ORDERS_0) is partition_log
    assert logs.log_dir_of(ORDERS_0) == tmp_path


def test_get_or_create_returns_the_existing_log(tmp_path: Path) -> None:
    logs = manager(tmp_path)
    first = logs.get_or_create(ORDERS_0, TOPIC_ID, CONFIG)

    assert logs.get_or_create(ORDERS_0, TOPIC_ID, CONFIG) is first
    assert logs.all_logs() == {ORDERS_0: first}


def test_new_partitions_go_to_the_log_dir_with_the_fewest(tmp_path: Path) -> None:
    first_dir, second_dir = tmp_path / "a", tmp_path / "b"
    logs = manager(first_dir, second_dir)

    logs.get_or_create(ORDERS_0, TOPIC_ID, CONFIG)
    logs.get_or_create(ORDERS_1, TOPIC_ID, CONFIG)

    assert {logs.log_dir_of(ORDERS_0), logs.log_dir_of(ORDERS_1)} == {first_dir, second_dir}


def test_shutdown_writes_the_clean_shutdown_marker_and_checkpoints(tmp_path: Path) -> None:
    logs = manager(tmp_path)
    partition_log = logs.get_or_create(ORDERS_0, TOPIC_ID, CONFIG)
    partition_log.append_as_leader(batch_of(b"a", b"b", b"c"), 0)
    partition_log.update_high_watermark(2)

    logs.shutdown()

    assert (tmp_path / CLEAN_SHUTDOWN_FILE).exists()
    assert (tmp_path / RECOVERY_POINT_FILE).read_text() == "0\n1\norders 0 3\n"
    assert (tmp_path / HIGH_WATERMARK_FILE).read_text() == "0\n1\norders 0 2\n"
    assert (tmp_path / LOG_START_OFFSET_FILE).read_text() == "0\n1\norders 0 0\n"


def test_logs_reload_after_a_clean_shutdown(tmp_path: Path) -> None:
    before = manager(tmp_path)
    before.lock_dirs()
    for tp in (ORDERS_0, ORDERS_1):
        partition_log = before.get_or_create(tp, TOPIC_ID, CONFIG)
        partition_log.append_as_leader(batch_of(b"%d" % tp.partition, b"x"), 0)
        partition_log.update_high_watermark(partition_log.log_end_offset)
    before.get_or_create(ORDERS_0, TOPIC_ID, CONFIG).delete_records_before(1)
    before.shutdown()

    after = manager(tmp_path)
    after.lock_dirs()
    after.load_logs(expecting(ORDERS_0, ORDERS_1))

    assert set(after.all_logs()) == {ORDERS_0, ORDERS_1}
    reloaded = after.get(ORDERS_0)
    assert reloaded is not None
    assert (reloaded.log_start_offset, reloaded.high_watermark) == (1, 2)
    assert (reloaded.log_end_offset, reloaded.recovery_point) == (2, 2)
    assert values_in(reloaded.read(1, 10_000, upper_offset=2)) == [b"0", b"x"]
    assert not (tmp_path / CLEAN_SHUTDOWN_FILE).exists()
    after.shutdown()


def test_logs_reload_after_a_crash_with_the_torn_tail_truncated(tmp_path: Path) -> None:
    before = manager(tmp_path)
    partition_log = before.get_or_create(ORDERS_0, TOPIC_ID, CONFIG)
    partition_log.append_as_leader(batch_of(b"kept"), 0)
    partition_log.close()  # no shutdown(): no marker, no checkpoints
    with open(tmp_path / "orders-0" / "00000000000000000000.log", "ab") as file:
        file.write(batch_of(b"torn")[:-4])

    after = manager(tmp_path)
    after.load_logs(expecting(ORDERS_0))

    reloaded = after.get(ORDERS_0)
    assert reloaded is not None
    assert reloaded.log_end_offset == 1
    assert values_in(reloaded.read(0, 10_000, upper_offset=1)) == [b"kept"]


def test_load_removes_logs_the_cluster_does_not_assign_here(tmp_path: Path) -> None:
    before = manager(tmp_path)
    before.get_or_create(ORDERS_0, TOPIC_ID, CONFIG)
    before.get_or_create(ORDERS_1, TOPIC_ID, CONFIG)
    before.shutdown()

    after = manager(tmp_path)
    after.load_logs(expecting(ORDERS_0))

    assert set(after.all_logs()) == {ORDERS_0}
    assert not (tmp_path / "orders-1").exists()


def test_load_removes_a_log_of_a_deleted_topic_recreated_under_the_same_name(
    tmp_path: Path,
) -> None:
    before = manager(tmp_path)
    before.get_or_create(ORDERS_0, TOPIC_ID, CONFIG).append_as_leader(batch_of(b"old"), 0)
    before.shutdown()

    after = manager(tmp_path)
    after.load_logs(expecting(ORDERS_0, topic_id=uuid.uuid4()))

    assert after.get(ORDERS_0) is None
    assert not (tmp_path / "orders-0").exists()


def test_load_removes_directories_left_by_an_interrupted_delete(tmp_path: Path) -> None:
    (tmp_path / "orders-0.0123abcd-delete").mkdir()
    (tmp_path / "not-a-partition").mkdir()

    manager(tmp_path).load_logs(expecting())

    assert sorted(path.name for path in tmp_path.iterdir()) == ["not-a-partition"]


def test_delete_removes_the_partition_directory(tmp_path: Path) -> None:
    logs = manager(tmp_path)
    logs.get_or_create(ORDERS_0, TOPIC_ID, CONFIG).append_as_leader(batch_of(b"a"), 0)

    logs.delete(ORDERS_0)

    assert logs.get(ORDERS_0) is None
    assert [path.name for path in tmp_path.iterdir()] == []


def test_a_locked_log_dir_cannot_be_locked_again(tmp_path: Path) -> None:
    first = manager(tmp_path)
    first.lock_dirs()

    with pytest.raises(LogStorageError, match="locked"):
        manager(tmp_path).lock_dirs()
    first.shutdown()
    second = manager(tmp_path)
    second.lock_dirs()
    second.shutdown()


def test_run_retention_deletes_old_segments_and_checkpoints_log_starts(tmp_path: Path) -> None:
    logs = manager(tmp_path)
    config = SimpleLogConfig(retention_bytes=0)
    partition_log = logs.get_or_create(ORDERS_0, TOPIC_ID, config)
    partition_log.append_as_leader(batch_of(b"a"), 0)
    partition_log.roll()
    partition_log.append_as_leader(batch_of(b"b"), 0)
    partition_log.update_high_watermark(partition_log.log_end_offset)

    assert logs.run_retention() == 2

    assert partition_log.log_start_offset == 2
    assert (tmp_path / LOG_START_OFFSET_FILE).read_text() == "0\n1\norders 0 2\n"
    assert sorted(os.listdir(tmp_path / "orders-0")) == [
        "00000000000000000002.index",
        "00000000000000000002.log",
        "00000000000000000002.snapshot",
        "00000000000000000002.timeindex",
        "leader-epoch-checkpoint",
        "partition.metadata",
    ]
