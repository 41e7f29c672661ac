"""Keys of a multi-node cluster: the node's roles, the controller quorum, broker sessions
and replication (Kafka's names and defaults). Part of the broker key table."""

from __future__ import annotations

from strom.broker.config.definitions import (
    BOOL,
    INT,
    LIST,
    LONG,
    STR,
    ConfigKey,
    at_least,
    items_in,
)
from strom.broker.config.quorum_config import PROCESS_ROLES

CLUSTER_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey(
        "process.roles",
        LIST,
        ("broker", "controller"),
        "Roles of this node: broker, controller or both.",
        items_in(*PROCESS_ROLES),
    ),
    ConfigKey(
        "controller.quorum.voters",
        LIST,
        None,
        "The controller quorum as id@host:port entries; unset: a one-voter quorum of this "
        "node with no network (single node, combined roles only).",
    ),
    ConfigKey(
        "controller.listener.names",
        LIST,
        None,
        "Listeners that carry controller traffic; required with controller.quorum.voters. "
        "Never published to clients.",
    ),
    ConfigKey(
        "inter.broker.listener.name",
        STR,
        None,
        "Listener brokers use to reach each other; defaults to the first listener that is "
        "not a controller listener.",
    ),
    ConfigKey(
        "replica.lag.time.max.ms",
        LONG,
        30_000,
        "A follower that has not caught up for this long leaves the ISR.",
        at_least(1),
    ),
    ConfigKey(
        "replica.fetch.max.bytes",
        INT,
        1_048_576,
        "Bytes a follower fetches per partition (at least one batch).",
        at_least(0),
    ),
    ConfigKey(
        "replica.fetch.wait.max.ms",
        INT,
        500,
        "How long the leader holds a follower fetch waiting for data.",
        at_least(0),
    ),
    ConfigKey("replica.fetch.min.bytes", INT, 1, "Bytes a follower fetch waits for.", at_least(1)),
    ConfigKey(
        "replica.fetch.response.max.bytes",
        INT,
        10_485_760,
        "Bytes of one follower fetch response (at least one batch).",
        at_least(0),
    ),
    ConfigKey(
        "replica.fetch.backoff.ms",
        INT,
        1000,
        "Pause of a follower after a failed fetch.",
        at_least(0),
    ),
    ConfigKey(
        "replica.socket.timeout.ms",
        INT,
        30_000,
        "Request timeout of follower fetches; at least replica.fetch.wait.max.ms.",
        at_least(1),
    ),
    ConfigKey(
        "broker.session.timeout.ms",
        INT,
        9000,
        "A broker without a heartbeat for this long is fenced by the controller.",
        at_least(1),
    ),
    ConfigKey(
        "broker.heartbeat.interval.ms",
        INT,
        2000,
        "How often a broker heartbeats to the active controller.",
        at_least(1),
    ),
    ConfigKey(
        "controller.quorum.election.timeout.ms",
        INT,
        1000,
        "A voter that hears no leader for this long (plus jitter) starts an election.",
        at_least(1),
    ),
    ConfigKey(
        "controller.quorum.fetch.timeout.ms",
        INT,
        2000,
        "A follower whose fetches fail for this long looks for a new leader.",
        at_least(1),
    ),
    ConfigKey(
        "controller.quorum.election.backoff.max.ms",
        INT,
        1000,
        "Longest random backoff before a failed election is retried.",
        at_least(1),
    ),
    ConfigKey(
        "controller.quorum.request.timeout.ms",
        INT,
        2000,
        "Timeout of requests between controller quorum members.",
        at_least(1),
    ),
    ConfigKey(
        "strom.cluster.id",
        STR,
        "",
        "The cluster id a node formats empty log directories with (what Kafka's "
        "`kafka-storage format --cluster-id` does); every node of a cluster needs the same. "
        "Empty: a random id, allowed only for a one-voter quorum. A directory formatted for "
        "another cluster is refused.",
    ),
    ConfigKey(
        "controlled.shutdown.enable",
        BOOL,
        True,
        "On shutdown, move partition leadership away before stopping.",
    ),
)
