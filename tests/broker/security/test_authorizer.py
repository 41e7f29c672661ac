"""The authorizer and ACL filters with Kafka's semantics (StandardAuthorizer,
ResourcePatternFilter, AccessControlEntryFilter), without a broker."""

from __future__ import annotations

import pytest

from strom.broker.security.acls import (
    CLUSTER_NAME,
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    PatternType,
    ResourceType,
)
from strom.broker.security.authorizer import Authorizer, AuthorizerSettings

Op = AclOperation
TOPIC, GROUP, CLUSTER = ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER
LITERAL, PREFIXED = PatternType.LITERAL, PatternType.PREFIXED
ALLOW, DENY = AclPermissionType.ALLOW, AclPermissionType.DENY
ALICE, BOB = "User:alice", "User:bob"
HOST = "10.0.0.1"


def acl(
    name: str,
    operation: AclOperation,
    permission: AclPermissionType = ALLOW,
    *,
    principal: str = ALICE,
    pattern: PatternType = LITERAL,
    resource_type: ResourceType = TOPIC,
    host: str = "*",
) -> AclBinding:
    return AclBinding(resource_type, name, pattern, principal, host, operation, permission)


def authorizer(
    *bindings: AclBinding,
    super_users: frozenset[str] = frozenset(),
    allow_everyone: bool = False,
    enabled: bool = True,
) -> Authorizer:
    settings = AuthorizerSettings(enabled, super_users, allow_everyone)
    return Authorizer(settings, lambda: bindings)


def allows(
    auth: Authorizer,
    operation: AclOperation,
    name: str = "orders",
    *,
    principal: str = ALICE,
    resource_type: ResourceType = TOPIC,
    host: str = HOST,
) -> bool:
    return auth.authorize(principal, host, operation, resource_type, name)


# -- ALLOW, DENY and operations ---------------------------------------------------------------


def test_without_any_acl_everything_is_denied_by_default() -> None:
    auth = authorizer()
    assert not allows(auth, Op.READ)
    assert not allows(auth, Op.CREATE, CLUSTER_NAME, resource_type=CLUSTER)


def test_a_disabled_authorizer_allows_everything() -> None:
    auth = authorizer(acl("orders", Op.ALL, DENY), enabled=False)
    assert allows(auth, Op.WRITE)


def test_an_allow_grants_only_its_operation() -> None:
    auth = authorizer(acl("orders", Op.WRITE))
    assert allows(auth, Op.WRITE)
    assert not allows(auth, Op.READ)
    assert not allows(auth, Op.DELETE)


@pytest.mark.parametrize(
    ("allow_pattern", "deny_pattern", "deny_name"),
    [
        (LITERAL, LITERAL, "orders"),
        (LITERAL, PREFIXED, "ord"),
        (PREFIXED, LITERAL, "orders"),
        (LITERAL, LITERAL, "*"),
    ],
)
def test_deny_wins_over_allow_whatever_the_patterns(
    allow_pattern: PatternType, deny_pattern: PatternType, deny_name: str
) -> None:
    allow_name = "orders" if allow_pattern == LITERAL else "ord"
    auth = authorizer(
        acl(allow_name, Op.WRITE, pattern=allow_pattern),
        acl(deny_name, Op.WRITE, DENY, pattern=deny_pattern),
    )
    assert not allows(auth, Op.WRITE)


def test_deny_of_one_operation_leaves_the_others_allowed() -> None:
    auth = authorizer(acl("orders", Op.ALL), acl("orders", Op.WRITE, DENY))
    assert not allows(auth, Op.WRITE)
    assert allows(auth, Op.READ)
    assert allows(auth, Op.DESCRIBE)


def test_all_allows_every_operation() -> None:
    auth = authorizer(acl("orders", Op.ALL))
    for operation in (Op.READ, Op.WRITE, Op.CREATE, Op.DELETE, Op.ALTER, Op.DESCRIBE):
        assert allows(auth, operation)
    assert allows(auth, Op.DESCRIBE_CONFIGS) and allows(auth, Op.ALTER_CONFIGS)


def test_deny_all_denies_every_operation_despite_allows() -> None:
    auth = authorizer(
        acl("orders", Op.READ), acl("orders", Op.DESCRIBE), acl("orders", Op.ALL, DENY)
    )
    assert not allows(auth, Op.READ)
    assert not allows(auth, Op.DESCRIBE)


@pytest.mark.parametrize("granted", [Op.READ, Op.WRITE, Op.DELETE, Op.ALTER])
def test_read_write_delete_and_alter_imply_describe(granted: AclOperation) -> None:
    assert allows(authorizer(acl("orders", granted)), Op.DESCRIBE)


def test_alter_configs_implies_describe_configs() -> None:
    auth = authorizer(acl("orders", Op.ALTER_CONFIGS))
    assert allows(auth, Op.DESCRIBE_CONFIGS)
    assert not allows(auth, Op.DESCRIBE)


@pytest.mark.parametrize(
    ("granted", "wanted"),
    [
        (Op.DESCRIBE, Op.READ),
        (Op.READ, Op.WRITE),
        (Op.WRITE, Op.READ),
        (Op.CREATE, Op.DESCRIBE),
        (Op.DESCRIBE_CONFIGS, Op.DESCRIBE),
        (Op.DESCRIBE_CONFIGS, Op.ALTER_CONFIGS),
    ],
)
def test_implication_goes_one_way_only(granted: AclOperation, wanted: AclOperation) -> None:
    assert not allows(authorizer(acl("orders", granted)), wanted)


def test_an_implied_operation_is_not_denied_by_denying_the_implying_one() -> None:
    # Kafka: a DENY matches only its own operation (or ALL), never what it would imply.
    auth = authorizer(acl("orders", Op.READ), acl("orders", Op.WRITE), acl("orders", Op.READ, DENY))
    assert allows(auth, Op.DESCRIBE)


def test_deny_describe_hides_a_topic_that_read_would_show() -> None:
    auth = authorizer(acl("orders", Op.READ), acl("orders", Op.DESCRIBE, DENY))
    assert not allows(auth, Op.DESCRIBE)
    assert allows(auth, Op.READ)


# -- resource patterns -------------------------------------------------------------------------


def test_literal_matches_only_the_exact_name() -> None:
    auth = authorizer(acl("orders", Op.READ))
    assert allows(auth, Op.READ, "orders")
    assert not allows(auth, Op.READ, "orders-eu")
    assert not allows(auth, Op.READ, "order")


def test_prefixed_matches_names_starting_with_the_prefix() -> None:
    auth = authorizer(acl("orders-", Op.READ, pattern=PREFIXED))
    assert allows(auth, Op.READ, "orders-eu")
    assert allows(auth, Op.READ, "orders-")
    assert not allows(auth, Op.READ, "orders")
    assert not allows(auth, Op.READ, "eu-orders-x")


def test_literal_wildcard_resource_matches_every_name_of_its_type() -> None:
    auth = authorizer(acl("*", Op.READ))
    assert allows(auth, Op.READ, "orders")
    assert allows(auth, Op.READ, "*")
    assert not allows(auth, Op.READ, "orders", resource_type=GROUP)


def test_prefixed_star_is_a_plain_prefix_not_a_wildcard() -> None:
    auth = authorizer(acl("*", Op.READ, pattern=PREFIXED))
    assert allows(auth, Op.READ, "*orders")
    assert not allows(auth, Op.READ, "orders")


def test_acls_apply_only_to_their_resource_type() -> None:
    auth = authorizer(acl("orders", Op.READ, resource_type=GROUP))
    assert allows(auth, Op.READ, "orders", resource_type=GROUP)
    assert not allows(auth, Op.READ, "orders")


def test_cluster_acls_name_the_cluster() -> None:
    auth = authorizer(acl(CLUSTER_NAME, Op.CREATE, resource_type=CLUSTER))
    assert allows(auth, Op.CREATE, CLUSTER_NAME, resource_type=CLUSTER)
    assert not allows(auth, Op.ALTER, CLUSTER_NAME, resource_type=CLUSTER)


# -- principals and hosts ----------------------------------------------------------------------


def test_acls_apply_only_to_their_principal() -> None:
    auth = authorizer(acl("orders", Op.READ, principal=BOB))
    assert allows(auth, Op.READ, principal=BOB)
    assert not allows(auth, Op.READ, principal=ALICE)


def test_wildcard_principal_matches_every_user() -> None:
    auth = authorizer(acl("orders", Op.READ, principal="User:*"))
    assert allows(auth, Op.READ, principal=ALICE)
    assert allows(auth, Op.READ, principal="User:ANONYMOUS")


def test_wildcard_principal_deny_overrides_a_personal_allow() -> None:
    auth = authorizer(acl("orders", Op.READ), acl("orders", Op.READ, DENY, principal="User:*"))
    assert not allows(auth, Op.READ)


def test_principal_names_are_case_sensitive_and_typed() -> None:
    auth = authorizer(acl("orders", Op.READ))
    assert not allows(auth, Op.READ, principal="User:Alice")
    assert not allows(auth, Op.READ, principal="Group:alice")


def test_host_matching_is_exact_or_wildcard() -> None:
    auth = authorizer(acl("orders", Op.READ, host=HOST), acl("orders", Op.WRITE))
    assert allows(auth, Op.READ, host=HOST)
    assert not allows(auth, Op.READ, host="10.0.0.2")
    assert allows(auth, Op.WRITE, host="10.0.0.2")


def test_deny_from_one_host_leaves_other_hosts_allowed() -> None:
    auth = authorizer(acl("orders", Op.READ), acl("orders", Op.READ, DENY, host="10.0.0.66"))
    assert allows(auth, Op.READ, host=HOST)
    assert not allows(auth, Op.READ, host="10.0.0.66")


# -- super users and allow.everyone.if.no.acl.found ---------------------------------------------


def test_super_users_pass_even_an_explicit_deny() -> None:
    auth = authorizer(acl("orders", Op.ALL, DENY, principal="User:*"), super_users=frozenset({BOB}))
    assert allows(auth, Op.WRITE, principal=BOB)
    assert allows(auth, Op.ALTER, CLUSTER_NAME, principal=BOB, resource_type=CLUSTER)
    assert not allows(auth, Op.WRITE, principal=ALICE)


def test_allow_everyone_applies_when_no_acl_names_the_resource() -> None:
    auth = authorizer(acl("payments", Op.READ, principal=BOB), allow_everyone=True)
    assert allows(auth, Op.WRITE, "orders")
    assert allows(auth, Op.ALTER, CLUSTER_NAME, resource_type=CLUSTER)


def test_allow_everyone_does_not_apply_once_any_acl_names_the_resource() -> None:
    auth = authorizer(acl("orders", Op.READ, principal=BOB), allow_everyone=True)
    assert not allows(auth, Op.READ, "orders")
    assert not allows(auth, Op.WRITE, "orders", principal=BOB)
    assert allows(auth, Op.READ, "orders", principal=BOB)


@pytest.mark.parametrize(
    "naming",
    [
        acl("ord", Op.READ, principal=BOB, pattern=PREFIXED),
        acl("*", Op.READ, principal=BOB),
        acl("orders", Op.WRITE, DENY, principal=BOB, host="10.9.9.9"),
    ],
    ids=["prefixed", "wildcard", "other-host-deny"],
)
def test_prefixed_and_wildcard_acls_also_name_the_resource(naming: AclBinding) -> None:
    auth = authorizer(naming, allow_everyone=True)
    assert not allows(auth, Op.READ, "orders")


def test_without_allow_everyone_an_unnamed_resource_stays_denied() -> None:
    auth = authorizer(acl("payments", Op.READ), allow_everyone=False)
    assert not allows(auth, Op.READ, "orders")


# -- authorize_any (Kafka's authorizeByResourceType) --------------------------------------------


def test_any_topic_write_allows_idempotent_producers() -> None:
    auth = authorizer(acl("orders", Op.WRITE))
    assert auth.authorize_any(ALICE, HOST, Op.WRITE, TOPIC)
    assert not auth.authorize_any(BOB, HOST, Op.WRITE, TOPIC)
    assert not auth.authorize_any(ALICE, HOST, Op.WRITE, GROUP)


def test_any_topic_write_is_denied_by_a_wildcard_deny() -> None:
    auth = authorizer(acl("orders", Op.WRITE), acl("*", Op.WRITE, DENY))
    assert not auth.authorize_any(ALICE, HOST, Op.WRITE, TOPIC)


@pytest.mark.parametrize(
    "deny",
    [acl("orders", Op.WRITE, DENY), acl("ord", Op.WRITE, DENY, pattern=PREFIXED)],
    ids=["literal", "dominating-prefix"],
)
def test_any_topic_write_ignores_allows_their_denies_dominate(deny: AclBinding) -> None:
    auth = authorizer(acl("orders", Op.WRITE), deny)
    assert not auth.authorize_any(ALICE, HOST, Op.WRITE, TOPIC)
    auth = authorizer(acl("orders", Op.WRITE), acl("payments", Op.WRITE), deny)
    assert auth.authorize_any(ALICE, HOST, Op.WRITE, TOPIC)


def test_any_topic_write_through_a_wildcard_allow_survives_a_literal_deny() -> None:
    auth = authorizer(acl("*", Op.WRITE), acl("orders", Op.WRITE, DENY))
    assert auth.authorize_any(ALICE, HOST, Op.WRITE, TOPIC)


def test_any_topic_write_follows_allow_everyone_when_no_acl_applies() -> None:
    assert authorizer(allow_everyone=True).authorize_any(ALICE, HOST, Op.WRITE, TOPIC)
    assert not authorizer().authorize_any(ALICE, HOST, Op.WRITE, TOPIC)


def test_any_topic_write_passes_super_users() -> None:
    auth = authorizer(acl("*", Op.ALL, DENY, principal="User:*"), super_users=frozenset({BOB}))
    assert auth.authorize_any(BOB, HOST, Op.WRITE, TOPIC)


# -- filters (DescribeAcls, DeleteAcls) ---------------------------------------------------------


def acl_filter(
    name: str | None = None,
    pattern: PatternType = PatternType.ANY,
    *,
    resource_type: ResourceType = ResourceType.ANY,
    principal: str | None = None,
    host: str | None = None,
    operation: AclOperation = Op.ANY,
    permission: AclPermissionType = AclPermissionType.ANY,
) -> AclBindingFilter:
    return AclBindingFilter(resource_type, name, pattern, principal, host, operation, permission)


LITERAL_ORDERS = acl("orders", Op.READ)
PREFIXED_ORD = acl("ord", Op.WRITE, DENY, pattern=PREFIXED, principal=BOB)
WILDCARD_TOPIC = acl("*", Op.DESCRIBE, host=HOST)
PREFIXED_ORDERS = acl("orders", Op.READ, pattern=PREFIXED)
GROUP_ORDERS = acl("orders", Op.READ, resource_type=GROUP)
PAYMENTS = acl("payments", Op.READ, principal=BOB)
ALL_BINDINGS = (
    LITERAL_ORDERS,
    PREFIXED_ORD,
    WILDCARD_TOPIC,
    PREFIXED_ORDERS,
    GROUP_ORDERS,
    PAYMENTS,
)


def selected(acl_filter: AclBindingFilter) -> list[AclBinding]:
    return [binding for binding in ALL_BINDINGS if acl_filter.matches(binding)]


def test_the_any_filter_matches_every_binding() -> None:
    assert selected(acl_filter()) == list(ALL_BINDINGS)


def test_pattern_any_with_a_name_matches_that_exact_name_in_every_pattern() -> None:
    assert selected(acl_filter("orders")) == [LITERAL_ORDERS, PREFIXED_ORDERS, GROUP_ORDERS]


def test_pattern_match_finds_every_binding_that_applies_to_the_resource() -> None:
    found = selected(acl_filter("orders", PatternType.MATCH, resource_type=TOPIC))
    assert found == [LITERAL_ORDERS, PREFIXED_ORD, WILDCARD_TOPIC, PREFIXED_ORDERS]


def test_pattern_match_does_not_treat_the_filter_name_as_a_prefix() -> None:
    assert selected(acl_filter("ord", PatternType.MATCH, resource_type=TOPIC)) == [
        PREFIXED_ORD,
        WILDCARD_TOPIC,
    ]


def test_pattern_match_without_a_name_matches_every_pattern() -> None:
    assert selected(acl_filter(None, PatternType.MATCH)) == list(ALL_BINDINGS)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [(LITERAL, [LITERAL_ORDERS, GROUP_ORDERS]), (PREFIXED, [PREFIXED_ORDERS])],
)
def test_a_concrete_pattern_matches_only_that_pattern_exactly(
    pattern: PatternType, expected: list[AclBinding]
) -> None:
    assert selected(acl_filter("orders", pattern)) == expected


def test_a_literal_filter_on_star_matches_the_wildcard_binding_only() -> None:
    assert selected(acl_filter("*", LITERAL)) == [WILDCARD_TOPIC]


def test_filters_by_principal_host_operation_and_permission() -> None:
    assert selected(acl_filter(principal=BOB)) == [PREFIXED_ORD, PAYMENTS]
    assert selected(acl_filter(host=HOST)) == [WILDCARD_TOPIC]
    assert selected(acl_filter(operation=Op.WRITE)) == [PREFIXED_ORD]
    assert selected(acl_filter(permission=DENY)) == [PREFIXED_ORD]
    assert selected(acl_filter(resource_type=GROUP)) == [GROUP_ORDERS]


def test_a_filter_operation_all_matches_only_bindings_of_all() -> None:
    # Filters compare operations literally: ALL is a value, ANY is the wildcard.
    everything = acl("orders", Op.ALL)
    assert acl_filter(operation=Op.ALL).matches(everything)
    assert not acl_filter(operation=Op.ALL).matches(LITERAL_ORDERS)
