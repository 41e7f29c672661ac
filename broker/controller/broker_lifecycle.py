"""A broker's membership in the cluster (Kafka's BrokerLifecycleManager): register with
the active controller, heartbeat to keep the session, and on shutdown ask the controller
to move leadership away before the process exits (controlled shutdown)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence

from strom.broker.controller.channel import ControllerChannel
from strom.broker.controller.cluster_membership import Endpoint
from strom.broker.controller.errors import (
    BrokerIdNotRegisteredError,
    ControllerError,
    StaleBrokerEpochError,
)

log = logging.getLogger(__name__)

_FENCED_RETRY_S = 0.05


class BrokerLifecycleManager:
    def __init__(
        self,
        broker_id: int,
        endpoints: Callable[[], Sequence[Endpoint]],
        rack: str | None,
        channel: ControllerChannel,
        metadata_offset: Callable[[], int],
        heartbeat_interval_ms: int,
    ) -> None:
        self._broker_id = broker_id
        self._endpoints = endpoints
        self._rack = rack
        self._channel = channel
        self._metadata_offset = metadata_offset
        self._interval_s = heartbeat_interval_ms / 1000
        self._incarnation_id = str(uuid.uuid4())
        self.broker_epoch = -1
        self.fenced = True
        self._unfenced = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="broker-lifecycle")

    async def wait_unfenced(self, timeout_s: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._unfenced.wait(), timeout_s)
        return self._unfenced.is_set()

    async def controlled_shutdown(self, timeout_s: float) -> bool:
        """Ask the controller to move leadership off this broker; True once it has."""
        if self.broker_epoch < 0:
            return False
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            try:
                reply = await asyncio.wait_for(
                    self._heartbeat(want_shutdown=True), max(deadline - _now(), 0.01)
                )
            except (ControllerError, OSError, TimeoutError, ConnectionError) as error:
                log.info("controlled shutdown request failed: %s", error)
                await asyncio.sleep(min(self._interval_s, 0.2))
                continue
            if reply:
                return True
            await asyncio.sleep(min(self._interval_s, 0.2))
        return False

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                if self.broker_epoch < 0:
                    await self._register()
                await self._heartbeat(want_shutdown=False)
            except (StaleBrokerEpochError, BrokerIdNotRegisteredError) as error:
                log.warning("broker %d must register again: %s", self._broker_id, error)
                self.broker_epoch = -1
                continue
            except (ControllerError, OSError, TimeoutError, ConnectionError) as error:
                log.info("broker %d: controller not reachable yet: %s", self._broker_id, error)
            # A fenced broker asks again soon: it is unfenced once it has caught up.
            await asyncio.sleep(_FENCED_RETRY_S if self.fenced else self._interval_s)

    async def _register(self) -> None:
        self.broker_epoch = await self._channel.register_broker(
            self._broker_id, self._incarnation_id, list(self._endpoints()), self._rack
        )
        log.info("broker %d registered at epoch %d", self._broker_id, self.broker_epoch)

    async def _heartbeat(self, want_shutdown: bool) -> bool:
        reply = await self._channel.broker_heartbeat(
            self._broker_id, self.broker_epoch, self._metadata_offset(), False, want_shutdown
        )
        if self.fenced and not reply.is_fenced:
            log.info("broker %d is unfenced", self._broker_id)
        self.fenced = reply.is_fenced
        if not reply.is_fenced:
            self._unfenced.set()
        return reply.should_shut_down


def _now() -> float:
    return asyncio.get_running_loop().time()
