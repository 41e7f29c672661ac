"""Run one broker in the foreground until SIGTERM or SIGINT, then stop it cleanly."""

from __future__ import annotations

import asyncio
import logging
import signal

from strom.broker.config.broker_config import BrokerConfig
from strom.broker.server import BrokerServer

log = logging.getLogger(__name__)


async def run_broker(config: BrokerConfig) -> None:
    server = BrokerServer(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await server.start()
        await stop.wait()
        log.info("shutdown requested")
    finally:
        await server.stop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
