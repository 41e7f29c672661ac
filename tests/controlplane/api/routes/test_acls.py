"""ACL bindings: written to the cluster, read back from it, limited to the tenant's principals."""

from __future__ import annotations

from typing import Any

import pytest

from strom.controlplane.kafka_admin import AclEntry
from tests.support.controlplane import Api, TenantCredentials
from tests.support.fake_clusters import FakeClusters


class Acls:
    def __init__(self, api: Api, tenant: TenantCredentials) -> None:
        self.api = api
        self.tenant = tenant
        self.account = api.create_service_account(tenant.tenant_id, "writer", tenant.headers)
        self.principal = self.account["status"]["principal"]
        self.cluster = api.ready_cluster(tenant.tenant_id, "main", tenant.headers)
        self.path = f"/api/v1/tenants/{tenant.tenant_id}/clusters/{self.cluster['id']}/acls"

    def create(self, **spec: Any) -> Any:
        body = {"principal": self.principal, "resource_type": "TOPIC", **spec}
        return self.api.client.post(self.path, json={"spec": body}, headers=self.tenant.headers)

    def list(self, **params: str) -> list[dict[str, Any]]:
        response = self.api.client.get(self.path, params=params, headers=self.tenant.headers)
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data


@pytest.fixture
def acls(api: Api) -> Acls:
    return Acls(api, api.tenant_with_key("acme"))


def test_bindings_are_written_read_back_and_deleted(
    acls: Acls, fake_clusters: FakeClusters
) -> None:
    response = acls.create(resource_name="orders.", pattern_type="PREFIXED", operation="WRITE")
    assert response.status_code == 201, response.text
    binding = response.json()
    assert binding["id"].startswith("acl-") and binding["kind"] == "AclBinding"
    assert binding["spec"] == {
        "principal": acls.principal,
        "resource_type": "TOPIC",
        "resource_name": "orders.",
        "pattern_type": "PREFIXED",
        "operation": "WRITE",
        "permission": "ALLOW",
        "host": "*",
    }
    assert fake_clusters.only().acls == [AclEntry(**binding["spec"])]
    assert acls.list() == [binding]
    one = acls.api.client.get(f"{acls.path}/{binding['id']}", headers=acls.tenant.headers)
    assert one.json() == binding
    again = acls.create(resource_name="orders.", pattern_type="PREFIXED", operation="WRITE")
    assert again.json()["id"] == binding["id"]  # the same binding has the same id
    deleted = acls.api.client.delete(f"{acls.path}/{binding['id']}", headers=acls.tenant.headers)
    assert deleted.status_code == 204
    assert fake_clusters.only().acls == []
    gone = acls.api.client.get(f"{acls.path}/{binding['id']}", headers=acls.tenant.headers)
    assert gone.status_code == 404


def test_only_the_tenants_own_principals_can_be_bound(
    api: Api, acls: Acls, fake_clusters: FakeClusters
) -> None:
    other = api.tenant_with_key("other")
    for principal in (
        f"User:{other.tenant_id}.other-deployer",
        f"User:{acls.tenant.tenant_id}.no-such-account",
        "User:*",
        "User:admin",
    ):
        response = acls.create(principal=principal, resource_name="orders", operation="READ")
        assert response.status_code == 422, principal
        assert response.json()["code"] == "principal_not_in_tenant"
    assert fake_clusters.only().acls == []


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ({"resource_type": "TOPIC", "resource_name": "x", "operation": "CREATE"}, "reserved"),
        ({"resource_type": "TOPIC", "resource_name": "x", "operation": "ALL"}, "reserved"),
        ({"resource_type": "TOPIC", "resource_name": "x", "operation": "ALTER"}, "reserved"),
        (
            {"resource_type": "CLUSTER", "resource_name": "kafka-cluster", "operation": "ALTER"},
            "reserved",
        ),
        (
            {"resource_type": "CLUSTER", "resource_name": "other", "operation": "DESCRIBE"},
            "invalid",
        ),
    ],
)
def test_bindings_that_would_bypass_the_control_plane_are_refused(
    acls: Acls, spec: dict[str, Any], code: str
) -> None:
    response = acls.create(**spec)
    assert response.status_code == 422
    expected = "acl_operation_reserved" if code == "reserved" else "invalid_acl_binding"
    assert response.json()["code"] == expected


def test_deny_bindings_and_group_access_are_allowed(acls: Acls) -> None:
    assert acls.create(resource_name="x", operation="CREATE", permission="DENY").status_code == 201
    group = acls.create(resource_type="GROUP", resource_name="orders-app", operation="READ")
    assert group.status_code == 201
    idempotent = acls.create(
        resource_type="CLUSTER", resource_name="kafka-cluster", operation="IDEMPOTENT_WRITE"
    )
    assert idempotent.status_code == 201
    assert len(acls.list()) == 3
    assert len(acls.list(principal=acls.principal)) == 3
    assert acls.list(principal="User:someone-else") == []


def test_the_list_is_what_the_cluster_has_for_the_tenants_principals_only(
    acls: Acls, fake_clusters: FakeClusters
) -> None:
    made_elsewhere = AclEntry(acls.principal, "TOPIC", "legacy", "LITERAL", "READ", "ALLOW")
    foreign = AclEntry("User:ten-zzzz.app", "TOPIC", "legacy", "LITERAL", "READ", "ALLOW")
    fake_clusters.only().acls += [made_elsewhere, foreign]
    listed = acls.list()
    assert [item["spec"]["resource_name"] for item in listed] == ["legacy"]
    assert listed[0]["spec"]["principal"] == acls.principal


def test_deleting_a_service_account_removes_its_bindings_and_cluster_credentials(
    acls: Acls, fake_clusters: FakeClusters
) -> None:
    acls.create(resource_name="orders", operation="READ")
    tenant = acls.tenant
    acls.api.create_api_key(
        tenant.tenant_id,
        acls.account["id"],
        tenant.headers,
        scope="cluster",
        cluster_id=acls.cluster["id"],
    )
    username = acls.principal.removeprefix("User:")
    assert fake_clusters.only().scram[username]
    response = acls.api.client.delete(
        f"/api/v1/tenants/{tenant.tenant_id}/service-accounts/{acls.account['id']}",
        headers=tenant.headers,
    )
    assert response.status_code == 204
    assert fake_clusters.only().acls == []
    assert fake_clusters.only().scram[username] == {}
