"""Applies committed metadata records to the image, in log order, exactly once (Kafka's
MetadataLoader): whatever the quorum commits reaches every component the same way, on
the active controller and on every other node."""

from __future__ import annotations

import logging
from collections.abc import Callable

from strom.broker.metadata.image import MetadataChange, MetadataImage
from strom.broker.metadata.records import decode_record, is_metadata_record
from strom.broker.quorum.metadata_log import MetadataLog

log = logging.getLogger(__name__)


class MetadataLoader:
    def __init__(
        self,
        metadata_log: MetadataLog,
        image: MetadataImage,
        publish: Callable[[MetadataChange], None],
    ) -> None:
        self._log = metadata_log
        self._image = image
        self.publish = publish  # replaced once the replica layer has loaded
        self.applied_end_offset = 0

    def load(self, high_watermark: int) -> int:
        """Apply every record below `high_watermark` not applied yet; returns how many."""
        applied = 0
        for offset, payload in self._log.payloads_between(self.applied_end_offset, high_watermark):
            if not is_metadata_record(payload):
                continue  # the quorum's own entries (leader changes)
            self.publish(self._image.apply(decode_record(payload), offset))
            applied += 1
        self.applied_end_offset = max(self.applied_end_offset, high_watermark)
        return applied
