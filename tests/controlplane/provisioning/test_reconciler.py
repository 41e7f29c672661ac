"""The reconciler: idempotent passes, resumption after a restart, supervision, the background
task. The backend is the in-memory fake; `test_local.py` and the end-to-end test use brokers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from strom.controlplane.app import create_app
from tests.support.controlplane import Api, TestClient, make_settings
from tests.support.fake_clusters import FakeClusters

WAIT_S = 10.0


def _cluster(api: Api, tenant_id: str, cluster_id: str, headers: dict[str, str]) -> Any:
    return api.client.get(
        f"/api/v1/tenants/{tenant_id}/clusters/{cluster_id}", headers=headers
    ).json()


def test_a_restarted_control_plane_finishes_what_the_last_one_left_running(
    api: Api, fake_clusters: FakeClusters, database_url: str, tmp_path: Path
) -> None:
    tenant = api.tenant_with_key("acme")
    operation = api.create_cluster(tenant.tenant_id, "orders", tenant.headers)
    # The first control plane "dies" here: it recorded the cluster but provisioned nothing.
    restarted = create_app(
        make_settings(tmp_path / "restarted", database_url),
        provisioner=fake_clusters.provisioner,
        kafka_admin_factory=fake_clusters.admin,
    )
    with TestClient(restarted) as client:
        second = Api(client)
        second.reconcile()
        second.reconcile()
        done = client.get(f"/api/v1/operations/{operation['id']}", headers=tenant.headers)
        assert done.json()["status"]["phase"] == "SUCCEEDED"
    assert fake_clusters.creates == 1
    listed = api.client.get(
        f"/api/v1/tenants/{tenant.tenant_id}/clusters", headers=tenant.headers
    ).json()
    assert listed["metadata"]["total_size"] == 1


def test_passes_are_idempotent(api: Api, fake_clusters: FakeClusters) -> None:
    tenant = api.tenant_with_key("acme")
    cluster = api.ready_cluster(tenant.tenant_id, "orders", tenant.headers)
    before = _cluster(api, tenant.tenant_id, cluster["id"], tenant.headers)
    api.reconcile()
    api.reconcile()
    assert _cluster(api, tenant.tenant_id, cluster["id"], tenant.headers) == before
    assert fake_clusters.creates == 1


def test_a_stopped_cluster_is_started_again(api: Api, fake_clusters: FakeClusters) -> None:
    tenant = api.tenant_with_key("acme")
    api.ready_cluster(tenant.tenant_id, "orders", tenant.headers)
    fake_clusters.only().running = False
    api.reconcile()
    assert fake_clusters.only().running
    assert fake_clusters.creates == 1  # started again, not created twice


def test_a_cluster_that_stops_answering_shows_failed_and_recovers(
    api: Api, fake_clusters: FakeClusters
) -> None:
    tenant = api.tenant_with_key("acme")
    cluster = api.ready_cluster(tenant.tenant_id, "orders", tenant.headers)
    fake_clusters.unreachable = True
    api.reconcile()
    seen = _cluster(api, tenant.tenant_id, cluster["id"], tenant.headers)
    assert seen["status"]["phase"] == "FAILED"
    assert "does not answer" in seen["status"]["message"]
    assert seen["status"]["bootstrap_servers"] == []
    fake_clusters.unreachable = False
    api.reconcile()
    seen = _cluster(api, tenant.tenant_id, cluster["id"], tenant.headers)
    assert seen["status"]["phase"] == "READY" and seen["status"]["message"] is None


def test_a_failed_deletion_is_reported_and_retried(api: Api, fake_clusters: FakeClusters) -> None:
    tenant = api.tenant_with_key("acme")
    cluster = api.ready_cluster(tenant.tenant_id, "orders", tenant.headers)
    path = f"/api/v1/tenants/{tenant.tenant_id}/clusters/{cluster['id']}"
    operation = api.client.delete(path, headers=tenant.headers).json()
    fake_clusters.fail_deletes_with = "broker process 42 did not stop"
    api.reconcile()
    seen = _cluster(api, tenant.tenant_id, cluster["id"], tenant.headers)
    assert seen["status"]["phase"] == "DELETING"
    assert "did not stop" in seen["status"]["message"]
    fake_clusters.fail_deletes_with = None
    api.reconcile()
    done = api.client.get(f"/api/v1/operations/{operation['id']}", headers=tenant.headers)
    assert done.json()["status"]["phase"] == "SUCCEEDED"
    assert api.client.get(path, headers=tenant.headers).status_code == 404


def test_the_background_reconciler_provisions_without_being_called(
    fake_clusters: FakeClusters, tmp_path: Path
) -> None:
    app = create_app(
        make_settings(tmp_path / "data", None, reconcile_interval_seconds=30),
        provisioner=fake_clusters.provisioner,
        kafka_admin_factory=fake_clusters.admin,
    )
    with TestClient(app) as client:
        api = Api(client)
        tenant = api.tenant_with_key("acme")
        operation = api.create_cluster(tenant.tenant_id, "orders", tenant.headers)
        # The interval is long: only the wake-up after the create can finish it in time.
        done = api.wait_for_operation(operation["id"], tenant.headers, WAIT_S)
        assert done["status"]["phase"] == "SUCCEEDED"
