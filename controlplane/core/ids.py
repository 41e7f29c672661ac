"""Self-describing object ids: a kind prefix plus random characters (`ten-7k2m9q4xw3bd`).

A prefix tells a person (and a support ticket) what an id names without a lookup; the random
part is long enough that ids cannot be enumerated.
"""

from __future__ import annotations

import secrets
from enum import StrEnum

# Lowercase letters and digits without the look-alikes 0/o and 1/l.
_ALPHABET = "23456789abcdefghijkmnpqrstuvwxyz"
_LENGTH = 12  # 60 random bits


class IdPrefix(StrEnum):
    """The prefix of each kind of object; never reuse one for another kind."""

    TENANT = "ten"
    SERVICE_ACCOUNT = "sa"
    API_KEY = "key"
    AUDIT_EVENT = "aud"
    OPERATION = "op"
    CLUSTER = "clu"
    ACL_BINDING = "acl"  # derived from the binding's content, not random (see models.acls)


def new_id(prefix: IdPrefix) -> str:
    """A fresh id such as `sa-4fq8k2m9x7ab`."""
    return f"{prefix}-" + "".join(secrets.choice(_ALPHABET) for _ in range(_LENGTH))
