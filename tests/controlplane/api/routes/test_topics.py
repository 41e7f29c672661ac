"""Topics: read back from the cluster, partitions counted against the tenant's limit, Kafka's
errors answered as problem details."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.controlplane import Api, TenantCredentials
from tests.support.fake_clusters import FakeClusters, FakeTopic


class Topics:
    """A tenant with a READY cluster, and its topics' URLs."""

    def __init__(self, api: Api, tenant: TenantCredentials) -> None:
        self.api = api
        self.tenant = tenant
        self.cluster = api.ready_cluster(tenant.tenant_id, "main", tenant.headers)
        self.path = f"/api/v1/tenants/{tenant.tenant_id}/clusters/{self.cluster['id']}/topics"

    def create(self, name: str, partitions: int = 1, **spec: Any) -> Any:
        return self.api.client.post(
            self.path,
            json={"spec": {"name": name, "partitions": partitions, **spec}},
            headers=self.tenant.headers,
        )

    def get(self, name: str) -> Any:
        return self.api.client.get(f"{self.path}/{name}", headers=self.tenant.headers)

    def patch(self, name: str, spec: dict[str, Any]) -> Any:
        return self.api.client.patch(
            f"{self.path}/{name}", json={"spec": spec}, headers=self.tenant.headers
        )


@pytest.fixture
def topics(api: Api) -> Topics:
    return Topics(api, api.tenant_with_key("acme", max_partitions=6))


def test_topics_are_created_read_back_listed_and_deleted(
    topics: Topics, fake_clusters: FakeClusters
) -> None:
    created = topics.create("orders", 3, configs={"retention.ms": "60000"})
    assert created.status_code == 201, created.text
    topic = created.json()
    assert topic["id"] == "orders" and topic["kind"] == "Topic"
    assert topic["spec"] == {
        "name": "orders",
        "partitions": 3,
        "replication_factor": 1,
        "configs": {"retention.ms": "60000"},
    }
    assert topic["status"]["topic_id"] == fake_clusters.only().topics["orders"].topic_id
    assert topic["metadata"] == {
        "tenant_id": topics.tenant.tenant_id,
        "cluster_id": topics.cluster["id"],
    }
    assert topics.get("orders").json() == topic
    listed = topics.api.client.get(topics.path, headers=topics.tenant.headers).json()
    assert [item["id"] for item in listed["data"]] == ["orders"]  # no __consumer_offsets
    assert topics.get("__consumer_offsets").status_code == 404
    deleted = topics.api.client.delete(f"{topics.path}/orders", headers=topics.tenant.headers)
    assert deleted.status_code == 204
    assert "orders" not in fake_clusters.only().topics
    assert topics.get("orders").status_code == 404


def test_partitions_over_the_limit_answer_409_naming_it_and_create_nothing(
    topics: Topics, fake_clusters: FakeClusters
) -> None:
    assert topics.create("orders", 4).status_code == 201
    response = topics.create("payments", 3)
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "tenant_limit_exceeded"
    assert (problem["limit"], problem["current"], problem["requested"], problem["allowed"]) == (
        "max_partitions",
        4,
        3,
        6,
    )
    assert "payments" not in fake_clusters.only().topics
    grown = topics.patch("orders", {"partitions": 7})
    assert grown.status_code == 409 and grown.json()["requested"] == 3
    assert fake_clusters.only().topics["orders"].partitions == 4
    assert topics.patch("orders", {"partitions": 6}).json()["spec"]["partitions"] == 6


def test_partitions_made_outside_the_api_count_too(
    topics: Topics, fake_clusters: FakeClusters
) -> None:
    fake_clusters.only().topics["made-by-kcat"] = FakeTopic("id-x", 5)
    response = topics.create("orders", 2)
    assert response.status_code == 409 and response.json()["current"] == 5


def test_configs_change_and_reset_to_their_default(topics: Topics) -> None:
    topics.create("orders", configs={"retention.ms": "60000"})
    changed = topics.patch("orders", {"configs": {"cleanup.policy": "compact"}})
    assert changed.json()["spec"]["configs"] == {
        "retention.ms": "60000",
        "cleanup.policy": "compact",
    }
    reset = topics.patch("orders", {"configs": {"retention.ms": None}})
    assert reset.json()["spec"]["configs"] == {"cleanup.policy": "compact"}


@pytest.mark.parametrize(
    ("spec", "status", "code"),
    [
        ({"configs": {"no.such.config": "1"}}, 422, "invalid_config"),
        ({"replication_factor": 3}, 422, "invalid_replication_factor"),
    ],
)
def test_the_clusters_refusals_answer_problems_with_kafkas_error_name(
    topics: Topics, spec: dict[str, Any], status: int, code: str
) -> None:
    response = topics.create("orders", **spec)
    assert response.status_code == status
    assert response.json()["code"] == code


def test_names_and_shapes_kafka_refuses(topics: Topics) -> None:
    topics.create("orders", 2)
    assert topics.create("orders").json()["code"] == "topic_exists"
    reserved = topics.create("__internal")
    assert reserved.status_code == 422 and reserved.json()["code"] == "topic_name_reserved"
    invalid = topics.create("white space")
    assert invalid.status_code == 422 and invalid.json()["code"] == "validation_failed"
    shrink = topics.patch("orders", {"partitions": 1})
    assert shrink.status_code == 422 and shrink.json()["code"] == "partitions_cannot_shrink"
    assert topics.patch("missing", {"partitions": 3}).status_code == 404


def test_a_dry_run_is_validated_by_the_cluster_and_creates_nothing(
    topics: Topics, fake_clusters: FakeClusters
) -> None:
    response = topics.api.client.post(
        topics.path,
        params={"dry_run": "true"},
        json={"spec": {"name": "orders", "partitions": 2}},
        headers=topics.tenant.headers,
    )
    assert response.status_code == 201 and response.json()["spec"]["partitions"] == 2
    assert "orders" not in fake_clusters.only().topics
    refused = topics.api.client.post(
        topics.path,
        params={"dry_run": "true"},
        json={"spec": {"name": "orders", "configs": {"bad": "1"}}},
        headers=topics.tenant.headers,
    )
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_config"


def test_an_unreachable_cluster_answers_503(topics: Topics, fake_clusters: FakeClusters) -> None:
    fake_clusters.unreachable = True
    response = topics.create("orders")
    assert response.status_code == 503 and response.json()["code"] == "cluster_unavailable"


def test_a_cluster_that_is_not_ready_answers_409(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    operation = api.create_cluster(tenant.tenant_id, "main", tenant.headers)
    path = f"/api/v1/tenants/{tenant.tenant_id}/clusters/{operation['spec']['target_id']}/topics"
    response = api.client.post(path, json={"spec": {"name": "orders"}}, headers=tenant.headers)
    assert response.status_code == 409 and response.json()["code"] == "cluster_not_ready"


def test_topic_lists_are_paged_by_name(topics: Topics) -> None:
    for name in ("e", "d", "c", "b", "a"):
        assert topics.create(name).status_code == 201
    seen: list[str] = []
    url: str | None = f"{topics.path}?page_size=2"
    while url is not None:
        page = topics.api.client.get(url, headers=topics.tenant.headers).json()
        assert page["metadata"]["total_size"] == 5
        seen += [item["id"] for item in page["data"]]
        url = page["metadata"]["next"]
    assert seen == ["a", "b", "c", "d", "e"]
