"""Waiting for a long-running operation (creating or deleting a cluster) with a deadline.

The API answers such a change with `202 Accepted` and an operation; this polls
`GET /api/v1/operations/{id}` until `status.done`, showing the phase as it goes, and fails
with a hint to keep waiting when the timeout passes first.
"""

from __future__ import annotations

import time

from strom.cli import output
from strom.cli.client import API, ControlPlaneClient, Document
from strom.cli.errors import CliError

POLL_INTERVAL_S = 0.5


def wait_for_operation(
    client: ControlPlaneClient, operation: Document, timeout_s: float, title: str
) -> Document:
    """The finished operation; `CliError` when it failed or is not done within `timeout_s`."""
    operation_id = operation["id"]
    deadline = time.monotonic() + timeout_s
    with output.progress(title) as update:
        while True:
            status = operation["status"]
            update(status["phase"] + (f" - {status['message']}" if status.get("message") else ""))
            if status["done"]:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CliError(
                    f"operation {operation_id} is still {status['phase']} after {timeout_s:g}s; "
                    f"keep waiting with `strom operation wait {operation_id}`"
                )
            time.sleep(min(POLL_INTERVAL_S, remaining))
            operation = client.get(f"{API}/operations/{operation_id}")
    if operation["status"]["phase"] != "SUCCEEDED":
        reason = operation["status"].get("message") or "no reason given"
        raise CliError(f"operation {operation_id} {operation['status']['phase']}: {reason}")
    return operation
