"""Cluster API keys: SCRAM-SHA-512 credentials on one cluster, ACTIVE once the broker says so."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.controlplane import Api, TenantCredentials
from tests.support.fake_clusters import FakeClusters


class ClusterKeys:
    def __init__(self, api: Api, tenant: TenantCredentials) -> None:
        self.api = api
        self.tenant = tenant
        self.account = api.create_service_account(tenant.tenant_id, "app", tenant.headers)
        self.username = self.account["status"]["principal"].removeprefix("User:")
        self.cluster = api.ready_cluster(tenant.tenant_id, "main", tenant.headers)
        self.path = f"/api/v1/tenants/{tenant.tenant_id}/api-keys"

    def create(self, **spec: Any) -> Any:
        body = {
            "service_account_id": self.account["id"],
            "scope": "cluster",
            "cluster_id": self.cluster["id"],
            **spec,
        }
        return self.api.client.post(self.path, json={"spec": body}, headers=self.tenant.headers)

    def post(self, key_id: str, action: str, body: Any = None) -> Any:
        return self.api.client.post(
            f"{self.path}/{key_id}/{action}", json=body, headers=self.tenant.headers
        )


@pytest.fixture
def keys(api: Api) -> ClusterKeys:
    return ClusterKeys(api, api.tenant_with_key("acme"))


def test_a_cluster_key_is_a_confirmed_scram_credential_shown_once(
    keys: ClusterKeys, fake_clusters: FakeClusters
) -> None:
    response = keys.create()
    assert response.status_code == 201, response.text
    key = response.json()
    assert key["spec"]["scope"] == "cluster" and key["spec"]["cluster_id"] == keys.cluster["id"]
    assert key["status"]["phase"] == "ACTIVE"
    assert key["status"]["kafka"] == {
        "bootstrap_servers": keys.cluster["status"]["bootstrap_servers"],
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": keys.username,
    }
    assert key["token"] is None and key["secret"]
    assert fake_clusters.only().scram[keys.username] == {"SCRAM-SHA-512": key["secret"]}
    fetched = keys.api.client.get(f"{keys.path}/{key['id']}", headers=keys.tenant.headers).json()
    assert "secret" not in fetched and fetched["status"]["phase"] == "ACTIVE"
    bearer = {"Authorization": f"Bearer {key['id']}.{key['secret']}"}
    refused = keys.api.client.get("/api/v1/me", headers=bearer)
    assert refused.status_code == 401 and "SASL" in refused.json()["detail"]


def test_a_key_the_broker_has_not_confirmed_is_pending_until_a_later_check(
    keys: ClusterKeys, fake_clusters: FakeClusters
) -> None:
    fake_clusters.confirm_credentials = False
    key = keys.create().json()
    assert key["status"]["phase"] == "PENDING"
    fake_clusters.confirm_credentials = True
    keys.api.reconcile()
    fetched = keys.api.client.get(f"{keys.path}/{key['id']}", headers=keys.tenant.headers).json()
    assert fetched["status"]["phase"] == "ACTIVE"


def test_one_live_key_per_service_account_and_cluster(keys: ClusterKeys) -> None:
    first = keys.create().json()
    second = keys.create()
    assert second.status_code == 409 and second.json()["code"] == "cluster_key_exists"
    assert first["id"] in second.json()["detail"]
    keys.post(first["id"], "revoke")
    assert keys.create().status_code == 201


def test_revoke_and_delete_remove_the_credential_from_the_broker(
    keys: ClusterKeys, fake_clusters: FakeClusters
) -> None:
    key = keys.create().json()
    revoked = keys.post(key["id"], "revoke")
    assert revoked.status_code == 200 and revoked.json()["status"]["phase"] == "REVOKED"
    assert fake_clusters.only().scram[keys.username] == {}
    other = keys.create().json()
    deleted = keys.api.client.delete(f"{keys.path}/{other['id']}", headers=keys.tenant.headers)
    assert deleted.status_code == 204
    assert fake_clusters.only().scram[keys.username] == {}


def test_rotation_replaces_the_password_on_the_broker_without_grace(
    keys: ClusterKeys, fake_clusters: FakeClusters
) -> None:
    key = keys.create().json()
    refused = keys.post(key["id"], "rotate", {"grace_period_seconds": 60})
    assert refused.status_code == 422 and refused.json()["code"] == "grace_period_not_supported"
    rotated = keys.post(key["id"], "rotate").json()
    assert rotated["secret"] != key["secret"] and rotated["status"]["phase"] == "ACTIVE"
    assert fake_clusters.only().scram[keys.username] == {"SCRAM-SHA-512": rotated["secret"]}


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ({"cluster_id": None}, "cluster_id_required"),
        ({"scope": "controlplane"}, "cluster_id_not_allowed"),
        ({"expires_at": "2099-01-01T00:00:00Z"}, "expiry_not_supported"),
    ],
)
def test_scope_and_cluster_go_together(keys: ClusterKeys, spec: dict[str, Any], code: str) -> None:
    response = keys.create(**spec)
    assert response.status_code == 422 and response.json()["code"] == code


def test_a_cluster_that_is_not_ready_gets_no_keys(api: Api) -> None:
    tenant = api.tenant_with_key("acme")
    operation = api.create_cluster(tenant.tenant_id, "main", tenant.headers)
    response = api.client.post(
        f"/api/v1/tenants/{tenant.tenant_id}/api-keys",
        json={
            "spec": {
                "service_account_id": tenant.service_account_id,
                "scope": "cluster",
                "cluster_id": operation["spec"]["target_id"],
            }
        },
        headers=tenant.headers,
    )
    assert response.status_code == 409 and response.json()["code"] == "cluster_not_ready"


def test_a_deleted_cluster_takes_its_keys_along(keys: ClusterKeys) -> None:
    key = keys.create().json()
    cluster_path = f"/api/v1/tenants/{keys.tenant.tenant_id}/clusters/{keys.cluster['id']}"
    assert keys.api.client.delete(cluster_path, headers=keys.tenant.headers).status_code == 202
    keys.api.reconcile()
    response = keys.api.client.get(f"{keys.path}/{key['id']}", headers=keys.tenant.headers)
    assert response.status_code == 404
