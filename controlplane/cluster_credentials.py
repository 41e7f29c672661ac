"""Cluster API keys on the broker: SCRAM-SHA-512 credentials of a service account's principal.

The SASL username is the principal without `User:` (`<tenant-id>.<name>`). Kafka keeps one
SCRAM credential per user and mechanism, so a service account has at most one live cluster
key per cluster. A key counts as ACTIVE only once the broker describes the credential back.
"""

from __future__ import annotations

import contextlib
import time

from strom.controlplane.kafka_admin import CredentialNotFound, KafkaAdmin

MECHANISM = "SCRAM-SHA-512"
_CONFIRM_POLL_S = 0.1


def provision(admin: KafkaAdmin, username: str, password: str, confirm_timeout_s: float) -> bool:
    """Create or replace the credential; True once the broker confirms it within the timeout."""
    admin.upsert_scram_credential(username, password, MECHANISM)
    deadline = time.monotonic() + confirm_timeout_s
    while True:
        if confirmed(admin, username):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(_CONFIRM_POLL_S)


def confirmed(admin: KafkaAdmin, username: str) -> bool:
    """Whether the broker describes a SCRAM-SHA-512 credential for `username`."""
    return MECHANISM in admin.scram_mechanisms(username)


def remove(admin: KafkaAdmin, username: str) -> None:
    """Delete the credential; one that is already gone is fine."""
    with contextlib.suppress(CredentialNotFound):
        admin.delete_scram_credential(username, MECHANISM)
