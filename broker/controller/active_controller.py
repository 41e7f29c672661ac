"""Controller operations on the quorum leader (the active controller), one at a time,
each answered only once its records are committed and applied to the image. Running them
one at a time keeps validation honest: every check sees all earlier changes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from strom.broker.controller.controller import Controller
from strom.broker.controller.errors import ControllerTimeoutError, NotControllerError

T = TypeVar("T")

log = logging.getLogger(__name__)
MAINTENANCE_INTERVAL_S = 1.0

WaitCommitted = Callable[[int, int], Awaitable[None]]


class ActiveController:
    def __init__(
        self,
        controller: Controller,
        is_active: Callable[[], bool],
        wait_committed: WaitCommitted,
        commit_timeout_ms: int,
    ) -> None:
        self.controller = controller
        self._is_active = is_active
        self._wait_committed = wait_committed
        self._commit_timeout_ms = commit_timeout_ms
        self._lock = asyncio.Lock()
        self._maintenance: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Fence brokers whose session expired, once a second, while this node leads."""
        self._maintenance = asyncio.create_task(self._maintain(), name="controller-maintenance")

    async def stop(self) -> None:
        if self._maintenance is not None:
            self._maintenance.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._maintenance
            self._maintenance = None

    @property
    def is_active(self) -> bool:
        return self._is_active()

    async def run(self, operation: Callable[[Controller], T]) -> T:
        """Validate and propose with `operation`, then wait for the commit. Raises
        NotControllerError on a node that is not the quorum leader."""
        async with self._lock:
            if not self._is_active():
                raise NotControllerError("this node is not the active controller")
            before = self.controller.proposed_end_offset
            result = operation(self.controller)
            end = self.controller.proposed_end_offset
            if end > before:
                try:
                    await self._wait_committed(end, self._commit_timeout_ms)
                except Exception as error:
                    raise ControllerTimeoutError(
                        f"the metadata change was not committed: {error}"
                    ) from error
            return result

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(MAINTENANCE_INTERVAL_S)
            if not self._is_active():
                continue
            try:
                await self.run(lambda c: c.fence_expired_brokers())
                await self.run(lambda c: c.advance_reassignments())
            except Exception as error:  # retried on the next round
                log.warning("controller maintenance failed: %s", error)
