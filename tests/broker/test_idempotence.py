"""Idempotent producers at the wire level: replayed batches, sequence gaps, restarts."""

from __future__ import annotations

import datetime
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from kio.schema.errors import ErrorCode

from strom.broker.log.batch_builder import RecordToWrite, build_batch
from tests.support.broker import BrokerProcess
from tests.support.kafka_wire import KafkaWireClient

PRODUCE, INIT_PRODUCER_ID = 0, 22
TIMEOUT_S = 10


def _batch(producer_id: int, epoch: int, sequence: int, values: list[bytes]) -> bytes:
    records = [
        RecordToWrite(key=None, value=value, timestamp=1_700_000_000_000) for value in values
    ]
    return build_batch(
        records, producer_id=producer_id, producer_epoch=epoch, base_sequence=sequence
    )


def _produce(client: KafkaWireClient, topic: str, batch: bytes) -> tuple[ErrorCode, int]:
    response = client.request(
        PRODUCE,
        9,
        transactional_id=None,
        acks=-1,
        timeout=datetime.timedelta(seconds=5),
        topic_data=(_topic_data(topic, batch),),
    )
    partition = response.responses[0].partition_responses[0]
    return partition.error_code, partition.base_offset


def _topic_data(topic: str, batch: bytes) -> object:
    from kio.schema.produce.v9.request import PartitionProduceData, TopicProduceData

    return TopicProduceData(
        name=topic, partition_data=(PartitionProduceData(index=0, records=batch),)
    )


def _values(bootstrap: str, topic: str) -> list[bytes]:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "check", "enable.partition.eof": True}
    )
    consumer.assign([TopicPartition(topic, 0, 0)])
    values: list[bytes] = []
    try:
        while True:
            message = consumer.poll(TIMEOUT_S)
            assert message is not None, "no end of partition within the timeout"
            if message.error() is not None:
                assert message.error().code() == message.error()._PARTITION_EOF
                return values
            values.append(message.value())
    finally:
        consumer.close()


def test_replayed_batch_is_stored_once_and_answered_with_its_original_offset(
    tmp_path: Path,
) -> None:
    broker = BrokerProcess(tmp_path / "broker").start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic("idem", 1, 1)])["idem"].result(TIMEOUT_S)
        with KafkaWireClient(broker.bootstrap) as client:
            init = client.request(
                INIT_PRODUCER_ID,
                4,
                transactional_id=None,
                transaction_timeout=datetime.timedelta(seconds=60),
                producer_id=-1,
                producer_epoch=-1,
            )
            assert init.error_code == ErrorCode.none
            pid, epoch = init.producer_id, init.producer_epoch
            first = _batch(pid, epoch, 0, [b"a", b"b", b"c"])
            second = _batch(pid, epoch, 3, [b"d", b"e", b"f"])

            assert _produce(client, "idem", first) == (ErrorCode.none, 0)
            assert _produce(client, "idem", first) == (ErrorCode.none, 0)  # retry: duplicate
            assert _produce(client, "idem", second) == (ErrorCode.none, 3)
            gap = _batch(pid, epoch, 10, [b"g"])
            assert _produce(client, "idem", gap)[0] == ErrorCode.out_of_order_sequence_number
        assert _values(broker.bootstrap, "idem") == [b"a", b"b", b"c", b"d", b"e", b"f"]

        broker.stop()
        broker.start()
        with KafkaWireClient(broker.bootstrap) as client:
            # Producer state is rebuilt from the log: the retry is still recognised.
            assert _produce(client, "idem", second) == (ErrorCode.none, 3)
            assert _produce(client, "idem", _batch(pid, epoch, 6, [b"g"])) == (ErrorCode.none, 6)
        assert _values(broker.bootstrap, "idem") == [b"a", b"b", b"c", b"d", b"e", b"f", b"g"]
    finally:
        if broker.is_running():
            broker.stop()
