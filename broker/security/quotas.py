"""Client quotas the Kafka way: byte rates and request time per user and client id,
enforced by delaying responses (throttle_time_ms plus a muted channel), never by errors.

Quotas resolve by Kafka's precedence, most specific first: (user, client-id),
(user, default client-id), user, (default user, client-id), (default user, default
client-id), default user, client-id, default client-id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from strom.broker.clock import Clock

USER = "user"
CLIENT_ID = "client-id"
IP = "ip"
PRODUCER_BYTE_RATE = "producer_byte_rate"
CONSUMER_BYTE_RATE = "consumer_byte_rate"
REQUEST_PERCENTAGE = "request_percentage"
CONTROLLER_MUTATION_RATE = "controller_mutation_rate"
CONNECTION_CREATION_RATE = "connection_creation_rate"
CLIENT_KEYS = (PRODUCER_BYTE_RATE, CONSUMER_BYTE_RATE, REQUEST_PERCENTAGE, CONTROLLER_MUTATION_RATE)

Entity = tuple[tuple[str, str | None], ...]
QuotaTable = Mapping[Entity, Mapping[str, float]]

# Bursts up to this many seconds' worth of quota pass unthrottled.
_BURST_S = 1.0
# Kafka caps a throttle at the quota window (11 samples of 1 s by default).
MAX_THROTTLE_MS = 10_000


def user_of(principal: str) -> str:
    """`User:alice` → `alice`; the user name quotas are keyed by."""
    return principal.partition(":")[2] if ":" in principal else principal


def resolve(quotas: QuotaTable, user: str, client_id: str, key: str) -> tuple[Entity, float] | None:
    """The quota entity that applies and its value, by Kafka's precedence."""
    candidates: tuple[Entity, ...] = (
        ((USER, user), (CLIENT_ID, client_id)),
        ((USER, user), (CLIENT_ID, None)),
        ((USER, user),),
        ((USER, None), (CLIENT_ID, client_id)),
        ((USER, None), (CLIENT_ID, None)),
        ((USER, None),),
        ((CLIENT_ID, client_id),),
        ((CLIENT_ID, None),),
    )
    for entity in candidates:
        value = quotas.get(_canonical(entity), {}).get(key)
        if value is not None:
            return entity, value
    return None


def canonical_entity(entity: Entity) -> Entity:
    return _canonical(entity)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated_s: float


@dataclass(slots=True)
class ClientQuotaManager:
    """Token buckets per (quota key, entity): each use spends tokens refilled at the quota
    rate; a negative balance is the time the client must wait."""

    clock: Clock
    quotas: Callable[[], QuotaTable]
    _buckets: dict[tuple[str, Entity, str, str], _Bucket] = field(default_factory=dict)

    def record(self, key: str, principal: str, client_id: str, amount: float) -> int:
        """Charge `amount` (bytes, or request time in percent-seconds) and return the
        throttle in milliseconds (0 when within quota)."""
        found = self._bucket(key, principal, client_id)
        if found is None:
            return 0
        bucket, rate = found
        bucket.tokens -= amount
        return _throttle_ms(bucket, rate)

    def try_spend(self, key: str, principal: str, client_id: str, amount: float) -> int:
        """KIP-599's strict mode for controller mutations: while the client is within quota
        the mutation is charged and allowed (0); once over it, refused with the throttle
        in milliseconds until the quota recovers."""
        found = self._bucket(key, principal, client_id)
        if found is None:
            return 0
        bucket, rate = found
        if bucket.tokens < 0:
            return _throttle_ms(bucket, rate)
        bucket.tokens -= amount
        return 0

    def _bucket(self, key: str, principal: str, client_id: str) -> tuple[_Bucket, float] | None:
        user = user_of(principal)
        found = resolve(self.quotas(), user, client_id, key)
        if found is None:
            return None
        entity, rate = found
        # A quota on a default entity applies to each user/client separately, as in Kafka.
        bucket_key = (key, entity, user, client_id)
        now = self.clock.monotonic()
        bucket = self._buckets.get(bucket_key)
        capacity = max(rate, 0.0) * _BURST_S
        if bucket is None:
            bucket = self._buckets[bucket_key] = _Bucket(capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated_s) * max(rate, 0.0))
        bucket.updated_s = now
        return bucket, rate


def _throttle_ms(bucket: _Bucket, rate: float) -> int:
    if bucket.tokens >= 0:
        return 0
    if rate <= 0:
        return MAX_THROTTLE_MS
    return min(MAX_THROTTLE_MS, int(-bucket.tokens / rate * 1000))


def _canonical(entity: Entity) -> Entity:
    return tuple(sorted(entity))
