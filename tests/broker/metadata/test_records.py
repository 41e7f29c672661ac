"""Metadata records survive the JSON round trip, nested tuples and older records included."""

from __future__ import annotations

import json
import uuid

import pytest

from strom.broker.metadata.records import (
    BrokerRegistrationChangeRecord,
    ClientQuotaRecord,
    FenceBrokerRecord,
    MetadataRecord,
    PartitionRecord,
    RegisterBrokerRecord,
    UnfenceBrokerRecord,
    UnregisterBrokerRecord,
    decode_record,
    encode_record,
)

TOPIC_ID = uuid.UUID(int=5)


@pytest.mark.parametrize(
    "record",
    [
        RegisterBrokerRecord(
            broker_id=2,
            incarnation_id=str(uuid.UUID(int=9)),
            broker_epoch=41,
            endpoints=(
                ("PLAINTEXT", "broker-2", 9092, "PLAINTEXT"),
                ("INTERNAL", "10.0.0.2", 9093, "SASL_SSL"),
            ),
            rack="eu-1a",
        ),
        RegisterBrokerRecord(3, "x", 7, (), None, fenced=False, in_controlled_shutdown=True),
        UnregisterBrokerRecord(2, 41),
        FenceBrokerRecord(2, 41),
        UnfenceBrokerRecord(2, 41),
        BrokerRegistrationChangeRecord(2, 41, fenced=None, in_controlled_shutdown=True),
        PartitionRecord(TOPIC_ID, 0, (2, 3, 1), (1, 2), 1, 4, 9, (3,), (1,)),
        ClientQuotaRecord((("user", "alice"), ("client-id", None)), "producer_byte_rate", 1e6),
    ],
)
def test_records_round_trip_through_json(record: MetadataRecord) -> None:
    assert decode_record(encode_record(record)) == record


def test_a_partition_record_written_before_reassignments_existed_still_decodes() -> None:
    old = {
        "type": "PartitionRecord",
        "data": {
            "topic_id": str(TOPIC_ID),
            "partition_id": 0,
            "replicas": [1, 2],
            "isr": [1],
            "leader": 1,
            "leader_epoch": 3,
            "partition_epoch": 5,
        },
    }
    record = decode_record(json.dumps(old).encode())
    assert record == PartitionRecord(TOPIC_ID, 0, (1, 2), (1,), 1, 3, 5)
    assert (record.adding_replicas, record.removing_replicas) == ((), ())
