"""The tenant journey through `strom`, against a real control plane and real brokers.

An admin signs a tenant up; the tenant logs in, creates a cluster and waits for it, makes
topics, a service account with a cluster key, and ACLs; produces 100 lines and consumes
them back over SASL/SCRAM; every list in JSON matches the API's data; deleting the cluster
waits for its broker to go and forgets the cluster in the context. (Scaling is refused: a
dev cluster has one broker.)
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.cli.conftest import ServedControlPlane
from tests.cli.helpers import Strom, expect_failure, sign_up

WAIT_TIMEOUT_S = "60"
RECORDS = 100


def test_a_tenant_provisions_a_cluster_and_uses_it_with_the_cli(
    strom: Strom, controlplane: ServedControlPlane
) -> None:
    key = sign_up(strom, controlplane.url, controlplane.admin_token, "journey")
    me = strom.json("whoami")
    assert me["tenant_id"] == key["metadata"]["tenant_id"] and me["admin"] is False
    assert strom.ok("context", "current").strip() == "journey"

    cluster = strom.json("cluster", "create", "dev", "--wait", "--timeout", WAIT_TIMEOUT_S)
    assert cluster["status"]["phase"] == "READY" and cluster["status"]["bootstrap_servers"]
    assert "Using cluster dev" in strom.ok("cluster", "use", "dev")
    scaled = strom("cluster", "scale", "dev", "--brokers", "2")
    expect_failure(scaled, 2, "exactly 1 broker")  # dev clusters do not scale out yet
    _make_topics_account_key_and_acls(strom)
    _produce_and_consume(strom)

    tenant_path = f"/api/v1/tenants/{me['tenant_id']}"
    cluster_path = f"{tenant_path}/clusters/{cluster['id']}"
    headers = {"Authorization": f"Bearer {key['token']}"}
    with httpx.Client(base_url=controlplane.url, headers=headers) as api:
        assert strom.json("topic", "list") == _data(api, f"{cluster_path}/topics")
        assert strom.json("topic", "describe", "orders.created") == _get(
            api, f"{cluster_path}/topics/orders.created"
        )
        assert strom.json("acl", "list") == _data(api, f"{cluster_path}/acls")
        assert strom.json("cluster", "list") == _data(api, f"{tenant_path}/clusters")
        assert strom.json("cluster", "describe", "dev") == _get(api, cluster_path)
        assert strom.json("service-account", "list") == _data(
            api, f"{tenant_path}/service-accounts"
        )
        assert strom.json("api-key", "list") == _data(api, f"{tenant_path}/api-keys")
        assert strom.json("operation", "list") == _data(api, f"{tenant_path}/operations")
    _clean_up(strom)

    done = strom.json("cluster", "delete", "dev", "--wait", "--timeout", WAIT_TIMEOUT_S)
    assert done["status"]["phase"] == "SUCCEEDED"
    assert strom.json("cluster", "list") == []
    journey = next(item for item in strom.json("context", "list") if item["name"] == "journey")
    assert journey["cluster"] is None
    assert not controlplane.backend.directory(cluster["id"]).exists()


def _make_topics_account_key_and_acls(strom: Strom) -> None:
    created = strom.ok(
        "topic", "create", "orders.created", "-p", "2", "--config", "retention.ms=3600000"
    )
    assert "Created topic orders.created (2 partition(s))" in created
    assert strom.json("topic", "create", "payments")["spec"]["partitions"] == 1
    account = strom.json("service-account", "create", "orders-app")
    result = strom(
        "api-key", "create", "--service-account", "orders-app", "--cluster", "dev", "--use",
        "-o", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    cluster_key = json.loads(result.stdout)
    assert cluster_key["spec"]["scope"] == "cluster" and cluster_key["status"]["phase"] == "ACTIVE"
    assert cluster_key["secret"] and "only time the secret is shown" in result.stderr
    topics = strom.json(
        "acl", "create", "--allow", "--operation", "write", "--operation", "READ",
        "--topic", "orders.", "--prefix", "--service-account", "orders-app",
    )  # fmt: skip
    assert [binding["spec"]["operation"] for binding in topics] == ["WRITE", "READ"]
    principal = account["status"]["principal"]
    assert {binding["spec"]["principal"] for binding in topics} == {principal}
    assert {binding["spec"]["pattern_type"] for binding in topics} == {"PREFIXED"}
    groups = strom.json(
        "acl", "create", "--operation", "read", "--group", "orders-", "--prefix",
        "--principal", principal,
    )  # fmt: skip
    assert groups[0]["spec"]["resource_type"] == "GROUP"


def _produce_and_consume(strom: Strom) -> None:
    lines = "".join(f"key-{n}:value-{n}\n" for n in range(RECORDS))
    produced = strom("produce", "orders.created", "--key-separator", ":", input=lines)
    assert produced.exit_code == 0, produced.output
    assert f"Produced {RECORDS} record(s)" in produced.stderr

    consumed = strom.ok(
        "consume", "orders.created", "--from-beginning", "--max", str(RECORDS),
        "--group", "orders-readers", "--timeout", "20", "-o", "json",
    )  # fmt: skip
    records = [json.loads(line) for line in consumed.splitlines()]
    assert sorted((r["key"], r["value"]) for r in records) == sorted(
        (f"key-{n}", f"value-{n}") for n in range(RECORDS)
    )
    assert {r["partition"] for r in records} == {0, 1}
    # Without --group no group is joined (and none needs to be allowed).
    first = strom.ok(
        "consume", "orders.created", "--from-beginning", "--max", "1", "--timeout", "20"
    )
    assert first.strip().startswith("value-")

    denied = strom("produce", "payments", "--value", "x", "--timeout", "10")
    expect_failure(denied, 4, "TOPIC_AUTHORIZATION_FAILED")


def _clean_up(strom: Strom) -> None:
    assert "Deleted topic payments." in strom.ok("topic", "delete", "payments")
    assert [topic["id"] for topic in strom.json("topic", "list")] == ["orders.created"]
    group_binding = next(
        binding["id"]
        for binding in strom.json("acl", "list")
        if binding["spec"]["resource_type"] == "GROUP"
    )
    strom.ok("acl", "delete", group_binding)
    assert group_binding not in {binding["id"] for binding in strom.json("acl", "list")}
    cluster_key = next(
        key["id"] for key in strom.json("api-key", "list") if key["spec"]["scope"] == "cluster"
    )
    strom.ok("api-key", "delete", cluster_key)
    expect_failure(strom("produce", "orders.created", "--value", "x"), 2, "no API key")
    strom.ok("service-account", "delete", "orders-app")
    names = [account["spec"]["name"] for account in strom.json("service-account", "list")]
    assert names == ["deployer"]


def _get(api: httpx.Client, path: str) -> dict[str, Any]:
    response = api.get(path)
    assert response.status_code == 200, response.text
    document: dict[str, Any] = response.json()
    return document


def _data(api: httpx.Client, path: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = _get(api, path)["data"]
    return data
