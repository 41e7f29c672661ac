"""Every broker key: Kafka's names, types, defaults and meanings (the reference docs are
generated from this table)."""

from __future__ import annotations

from strom.broker.config.cluster_keys import CLUSTER_KEYS
from strom.broker.config.definitions import (
    BOOL,
    CLEANUP_POLICIES,
    COMPRESSION_TYPES,
    DOUBLE,
    INT,
    LIST,
    LONG,
    STR,
    TIMESTAMP_TYPES,
    WEEK_HOURS,
    ConfigKey,
    at_least,
    items_in,
    one_of,
)
from strom.broker.config.value_types import LONG_MAX, ConfigType

BROKER_KEYS: tuple[ConfigKey, ...] = (
    ConfigKey("node.id", INT, 1, "The node id of this server.", at_least(0)),
    ConfigKey(
        "listeners",
        LIST,
        ("PLAINTEXT://:9092",),
        "Comma-separated NAME://host:port listeners; an empty host binds every interface.",
    ),
    ConfigKey(
        "listener.security.protocol.map",
        LIST,
        ("PLAINTEXT:PLAINTEXT", "SSL:SSL", "SASL_PLAINTEXT:SASL_PLAINTEXT", "SASL_SSL:SASL_SSL"),
        "Security protocol of each listener name, as NAME:PROTOCOL pairs.",
    ),
    ConfigKey(
        "advertised.listeners",
        LIST,
        None,
        "Listeners as published to clients in Metadata; defaults to `listeners`.",
    ),
    *CLUSTER_KEYS,
    ConfigKey("log.dir", STR, "/tmp/strom-logs", "The log directory, used when log.dirs is unset."),
    ConfigKey("log.dirs", LIST, None, "Comma-separated directories holding partition logs."),
    ConfigKey(
        "metadata.log.dir",
        STR,
        None,
        "Directory of the cluster metadata log; defaults to the first of log.dirs.",
    ),
    ConfigKey("num.partitions", INT, 1, "Default partition count of new topics.", at_least(1)),
    ConfigKey(
        "default.replication.factor",
        INT,
        1,
        "Default replication factor of new topics.",
        at_least(1),
    ),
    ConfigKey("auto.create.topics.enable", BOOL, True, "Create a topic when a client asks for it."),
    ConfigKey("delete.topic.enable", BOOL, True, "Allow DeleteTopics."),
    ConfigKey("log.retention.ms", LONG, None, "Retention time in ms; -1 keeps data forever."),
    ConfigKey(
        "log.retention.minutes", INT, None, "Retention in minutes, if log.retention.ms unset."
    ),
    ConfigKey(
        "log.retention.hours", INT, WEEK_HOURS, "Retention in hours, if the finer keys are unset."
    ),
    ConfigKey(
        "log.retention.bytes",
        LONG,
        -1,
        "Bytes kept per partition before old segments go; -1: no limit.",
    ),
    ConfigKey("log.segment.bytes", INT, 1 << 30, "Maximum size of one segment file.", at_least(14)),
    ConfigKey("log.roll.ms", LONG, None, "Roll a new segment after this many ms.", at_least(1)),
    ConfigKey(
        "log.roll.hours", INT, WEEK_HOURS, "Roll after hours, if log.roll.ms unset.", at_least(1)
    ),
    ConfigKey(
        "log.roll.jitter.ms", LONG, 0, "Random jitter subtracted from the roll time.", at_least(0)
    ),
    ConfigKey(
        "log.cleanup.policy",
        LIST,
        ("delete",),
        "Default cleanup policy of topics: delete, compact or both.",
        items_in(*CLEANUP_POLICIES),
    ),
    ConfigKey(
        "log.cleaner.delete.retention.ms",
        LONG,
        86_400_000,
        "How long delete tombstones are kept.",
        at_least(0),
    ),
    ConfigKey(
        "log.cleaner.min.cleanable.ratio", DOUBLE, 0.5, "Dirty ratio at which a log is cleaned."
    ),
    ConfigKey("log.cleaner.min.compaction.lag.ms", LONG, 0, "Minimum age before compaction."),
    ConfigKey(
        "log.cleaner.max.compaction.lag.ms", LONG, LONG_MAX, "Maximum age before compaction."
    ),
    ConfigKey(
        "log.cleaner.enable",
        BOOL,
        True,
        "Run the log cleaner, which compacts topics with cleanup.policy=compact.",
    ),
    ConfigKey(
        "log.cleaner.backoff.ms",
        LONG,
        15_000,
        "How long the log cleaner sleeps when no log needs cleaning.",
        at_least(0),
    ),
    ConfigKey(
        "message.max.bytes", INT, 1_048_588, "Largest record batch the broker accepts.", at_least(0)
    ),
    ConfigKey(
        "log.flush.interval.messages",
        LONG,
        LONG_MAX,
        "Fsync after this many messages.",
        at_least(1),
    ),
    ConfigKey(
        "log.flush.interval.ms",
        LONG,
        None,
        "Fsync a log after this many ms; defaults to log.flush.scheduler.interval.ms.",
    ),
    ConfigKey(
        "log.flush.scheduler.interval.ms", LONG, LONG_MAX, "How often the flusher checks logs."
    ),
    ConfigKey(
        "log.retention.check.interval.ms", LONG, 300_000, "How often retention runs.", at_least(1)
    ),
    ConfigKey(
        "log.index.interval.bytes", INT, 4096, "Bytes between offset index entries.", at_least(0)
    ),
    ConfigKey(
        "log.index.size.max.bytes", INT, 10_485_760, "Maximum size of an offset index.", at_least(4)
    ),
    ConfigKey("log.segment.delete.delay.ms", LONG, 60_000, "Delay before deleting a segment file."),
    ConfigKey("log.preallocate", BOOL, False, "Preallocate segment files."),
    ConfigKey(
        "log.message.timestamp.type",
        STR,
        "CreateTime",
        "CreateTime keeps producers' timestamps; LogAppendTime stamps the broker's clock.",
        one_of(*TIMESTAMP_TYPES),
    ),
    ConfigKey(
        "log.message.timestamp.before.max.ms",
        LONG,
        LONG_MAX,
        "How far in the past a CreateTime timestamp may be.",
        at_least(0),
    ),
    ConfigKey(
        "log.message.timestamp.after.max.ms",
        LONG,
        3_600_000,
        "How far in the future a CreateTime timestamp may be.",
        at_least(0),
    ),
    ConfigKey(
        "compression.type",
        STR,
        "producer",
        "Final codec of stored batches; `producer` keeps the producer's codec.",
        one_of(*COMPRESSION_TYPES),
    ),
    ConfigKey(
        "min.insync.replicas", INT, 1, "Replicas that must acknowledge acks=all.", at_least(1)
    ),
    ConfigKey(
        "unclean.leader.election.enable", BOOL, False, "Allow an out-of-sync replica to lead."
    ),
    ConfigKey(
        "socket.request.max.bytes", INT, 104_857_600, "Largest request frame accepted.", at_least(1)
    ),
    ConfigKey("broker.rack", STR, None, "Rack of this broker, published in Metadata."),
    ConfigKey(
        "sasl.enabled.mechanisms",
        LIST,
        ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"),
        "SASL mechanisms offered on SASL listeners (GSSAPI and OAUTHBEARER are not offered).",
        items_in("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"),
    ),
    ConfigKey(
        "strom.sasl.plain.users",
        ConfigType.PASSWORD,
        None,
        "Static SASL/PLAIN users as user:password pairs, in place of Kafka's JAAS file; "
        "SCRAM credentials in cluster metadata also log in with PLAIN.",
    ),
    ConfigKey(
        "max.connections",
        INT,
        2**31 - 1,
        "Connections the broker accepts across all listeners; more are closed at once.",
        at_least(0),
    ),
    ConfigKey(
        "max.connections.per.ip",
        INT,
        2**31 - 1,
        "Connections the broker accepts from one IP address.",
        at_least(0),
    ),
    ConfigKey(
        "connection.failed.authentication.delay.ms",
        INT,
        100,
        "Delay before answering a failed login, which slows down password guessing.",
        at_least(0),
    ),
    ConfigKey("ssl.certificate.location", STR, None, "PEM certificate chain of SSL listeners."),
    ConfigKey("ssl.key.location", STR, None, "PEM private key of SSL listeners."),
    ConfigKey("ssl.key.password", ConfigType.PASSWORD, None, "Password of the private key."),
    ConfigKey(
        "ssl.truststore.location",
        STR,
        None,
        "PEM CA certificates trusted for client certificates (ssl.client.auth).",
    ),
    ConfigKey(
        "ssl.client.auth",
        STR,
        "none",
        "none, requested or required: whether SSL clients present a certificate, whose "
        "subject becomes the principal.",
        one_of("none", "requested", "required"),
    ),
    ConfigKey(
        "authorizer.class.name",
        STR,
        "",
        "Any non-empty value (such as Kafka's StandardAuthorizer class) turns on ACL checks.",
    ),
    ConfigKey(
        "super.users",
        STR,
        "",
        "Principals allowed everything, separated by semicolons: User:admin;User:ops.",
    ),
    ConfigKey(
        "allow.everyone.if.no.acl.found",
        BOOL,
        False,
        "With an authorizer, allow access to resources that have no ACL at all.",
    ),
    ConfigKey(
        "group.initial.rebalance.delay.ms",
        INT,
        3000,
        "How long the first rebalance of an empty group waits for more members to join.",
        at_least(0),
    ),
    ConfigKey(
        "group.min.session.timeout.ms", INT, 6000, "Smallest session timeout a member may ask."
    ),
    ConfigKey(
        "group.max.session.timeout.ms", INT, 1_800_000, "Largest session timeout a member may ask."
    ),
    ConfigKey(
        "offsets.topic.num.partitions",
        INT,
        50,
        "Partitions of the internal __consumer_offsets topic (fixed once it exists).",
        at_least(1),
    ),
    ConfigKey(
        "offsets.topic.replication.factor",
        ConfigType.SHORT,
        3,
        "Replication factor of __consumer_offsets; it is created once this many brokers are "
        "alive. A single-node cluster (no controller.quorum.voters) uses 1.",
        at_least(1),
    ),
    ConfigKey(
        "offsets.topic.segment.bytes",
        INT,
        104_857_600,
        "Segment size of __consumer_offsets.",
        at_least(14),
    ),
    ConfigKey(
        "offsets.retention.minutes",
        INT,
        10_080,
        "Committed offsets of an empty group expire this long after it became empty.",
        at_least(1),
    ),
    ConfigKey(
        "offsets.retention.check.interval.ms",
        LONG,
        600_000,
        "How often expired committed offsets are removed.",
        at_least(1),
    ),
    ConfigKey(
        "offset.metadata.max.bytes", INT, 4096, "Largest metadata string of an offset commit."
    ),
    ConfigKey(
        "strom.http.listener",
        STR,
        None,
        "host:port of the HTTP side listener serving /healthz, /readyz and /metrics; off if unset.",
    ),
)

BROKER_KEYS_BY_NAME = {key.name: key for key in BROKER_KEYS}
