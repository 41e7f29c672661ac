"""Idempotent-producer state of one partition (Kafka's ProducerStateManager).

For each producer id the partition remembers the epoch and the last five batches it
appended. A retried batch that matches one of them is a duplicate: it is answered with the
original offsets and not appended again. A batch that skips sequence numbers is refused.
State is rebuilt from the log's batch headers when the partition is opened.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import astuple, dataclass, field

from strom.broker.log.record_batch import NO_SEQUENCE, RecordBatchHeader

BATCHES_REMEMBERED = 5
_MAX_SEQUENCE = (1 << 31) - 1


class ProducerStateError(Exception):
    """Base of the errors an idempotent append can fail with."""


class OutOfOrderSequenceError(ProducerStateError):
    """The batch's first sequence is not the one after the producer's last."""


class InvalidProducerEpochError(ProducerStateError):
    """The batch comes from an older epoch of the producer (a fenced zombie)."""


@dataclass(frozen=True, slots=True)
class BatchMetadata:
    first_sequence: int
    last_sequence: int
    first_offset: int
    last_offset: int
    timestamp: int


@dataclass(slots=True)
class ProducerStateEntry:
    epoch: int
    batches: deque[BatchMetadata] = field(default_factory=lambda: deque(maxlen=BATCHES_REMEMBERED))

    @property
    def last_sequence(self) -> int:
        return self.batches[-1].last_sequence if self.batches else NO_SEQUENCE


class ProducerStateManager:
    def __init__(self) -> None:
        self._producers: dict[int, ProducerStateEntry] = {}

    def __len__(self) -> int:
        return len(self._producers)

    def check(self, header: RecordBatchHeader) -> BatchMetadata | None:
        """Validate an idempotent batch before it is appended. Returns the metadata of the
        original batch when this one is a duplicate, None when it should be appended."""
        if not header.has_producer_id or header.base_sequence == NO_SEQUENCE:
            return None
        entry = self._producers.get(header.producer_id)
        if entry is None:
            # Unknown producer (new, or its state was removed): any sequence may start it.
            return None
        if header.producer_epoch < entry.epoch:
            raise InvalidProducerEpochError(
                f"producer {header.producer_id} epoch {header.producer_epoch} is older than "
                f"{entry.epoch}"
            )
        if header.producer_epoch > entry.epoch:
            if header.base_sequence != 0:
                raise OutOfOrderSequenceError(
                    f"producer {header.producer_id} started epoch {header.producer_epoch} at "
                    f"sequence {header.base_sequence}, expected 0"
                )
            return None
        for batch in entry.batches:
            if (
                batch.first_sequence == header.base_sequence
                and batch.last_sequence == header.last_sequence
            ):
                return batch
        expected = _next_sequence(entry.last_sequence)
        if entry.batches and header.base_sequence != expected:
            raise OutOfOrderSequenceError(
                f"producer {header.producer_id} sent sequence {header.base_sequence}, "
                f"expected {expected}"
            )
        return None

    def check_new_batches(self, headers: list[RecordBatchHeader]) -> None:
        """Validate the batches of one request in order, as Kafka does: a batch continues
        the same producer's previous batch in the request, or the stored state if it is the
        producer's first. Duplicates are only recognised for single-batch requests."""
        last_in_request: dict[int, RecordBatchHeader] = {}
        for header in headers:
            if not header.has_producer_id or header.base_sequence == NO_SEQUENCE:
                continue
            previous = last_in_request.get(header.producer_id)
            if previous is None:
                if self.check(header) is not None:
                    raise OutOfOrderSequenceError(
                        f"producer {header.producer_id} resent sequence "
                        f"{header.base_sequence} together with new batches"
                    )
            elif header.producer_epoch != previous.producer_epoch:
                raise InvalidProducerEpochError(
                    f"producer {header.producer_id} changed epoch within one request"
                )
            elif header.base_sequence != _next_sequence(previous.last_sequence):
                raise OutOfOrderSequenceError(
                    f"producer {header.producer_id} sent sequence {header.base_sequence}, "
                    f"expected {_next_sequence(previous.last_sequence)}"
                )
            last_in_request[header.producer_id] = header

    def update(self, header: RecordBatchHeader) -> None:
        """Remember a batch that was appended (header carries its assigned offsets)."""
        if not header.has_producer_id:
            return
        entry = self._producers.get(header.producer_id)
        if entry is None or header.producer_epoch > entry.epoch:
            entry = ProducerStateEntry(header.producer_epoch)
            self._producers[header.producer_id] = entry
        if header.base_sequence == NO_SEQUENCE:
            return
        entry.batches.append(
            BatchMetadata(
                first_sequence=header.base_sequence,
                last_sequence=header.last_sequence,
                first_offset=header.base_offset,
                last_offset=header.last_offset,
                timestamp=header.max_timestamp,
            )
        )

    def snapshot(self) -> str:
        """The state as text, for a `<offset>.snapshot` file (Kafka keeps one per roll)."""
        producers = [
            {"id": pid, "epoch": entry.epoch, "batches": [astuple(b) for b in entry.batches]}
            for pid, entry in self._producers.items()
        ]
        return json.dumps({"version": 1, "producers": producers})

    def load_snapshot(self, text: str) -> None:
        """Replace the state with a snapshot's; raise ValueError if it cannot be read."""
        try:
            document = json.loads(text)
            producers = {
                int(item["id"]): ProducerStateEntry(
                    int(item["epoch"]),
                    deque(
                        (BatchMetadata(*map(int, batch)) for batch in item["batches"]),
                        maxlen=BATCHES_REMEMBERED,
                    ),
                )
                for item in document["producers"]
            }
        except (KeyError, TypeError, json.JSONDecodeError) as error:
            raise ValueError(f"unreadable producer state snapshot: {error}") from error
        self._producers = producers

    def truncate(self) -> None:
        """Forget everything (the log was truncated; state is rebuilt from what remains)."""
        self._producers.clear()


def _next_sequence(sequence: int) -> int:
    return 0 if sequence == _MAX_SEQUENCE else sequence + 1
