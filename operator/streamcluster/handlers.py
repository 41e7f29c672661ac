"""kopf handlers of StreamCluster: build the desired objects, apply them, write status.

Thin on purpose: what to run is decided by the pure builders, how the status reads by
`status.py`. Every pass applies every object (level-triggered, idempotent), so a pass that
failed half-way is completed by the next one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import kopf
from pydantic import ValidationError

from strom.operator.crds.base import GROUP, VERSION
from strom.operator.crds.streamcluster import StreamClusterSpec
from strom.operator.kube.client import ApiError, KubeApi
from strom.operator.kube.resources import collection_path, object_path
from strom.operator.streamcluster import status as cluster_status
from strom.operator.streamcluster.builders import OperatorDefaults, build_all
from strom.operator.streamcluster.naming import MANAGED_BY, MAX_CLUSTER_NAME, ClusterIdentity

PLURAL = "streamclusters"
RETRY_DELAY_S = 10.0
STATUS_CONFLICT_RETRIES = 5
RESYNC_INTERVAL_S = 120.0


def register(registry: kopf.OperatorRegistry, resync_interval: float = RESYNC_INTERVAL_S) -> None:
    """Attach the StreamCluster handlers to `registry` (no import-time registration).

    Besides spec changes, every cluster is re-applied every `resync_interval` seconds, so
    objects changed or deleted behind the operator's back are repaired (as Strimzi does)."""
    for cause in (kopf.on.create, kopf.on.update, kopf.on.resume):
        cause(GROUP, VERSION, PLURAL, registry=registry, id="reconcile")(reconcile)
    kopf.timer(
        GROUP, VERSION, PLURAL, registry=registry, interval=resync_interval, idle=resync_interval
    )(resync)
    kopf.on.delete(GROUP, VERSION, PLURAL, registry=registry, retries=5, timeout=120)(cleanup)
    kopf.on.event(
        "apps",
        "v1",
        "statefulsets",
        labels={"app.kubernetes.io/managed-by": MANAGED_BY},
        registry=registry,
    )(statefulset_changed)


async def reconcile(
    body: kopf.Body,
    spec: kopf.Spec,
    meta: kopf.Meta,
    status: kopf.Status,
    name: str,
    namespace: str | None,
    uid: str,
    patch: kopf.Patch,
    memo: Any,
    logger: kopf.Logger,
    announce: bool = True,
    **_: Any,
) -> None:
    """Converge the cluster's objects on its spec (create, update and operator start)."""
    assert namespace is not None  # StreamCluster is namespaced
    generation = int(meta.get("generation") or 0)
    previous = dict(status)
    now = datetime.now(UTC)
    if cluster_status.is_paused(meta.annotations):
        patch.status.update(cluster_status.paused_status(previous, generation, now))
        if announce:
            kopf.info(body, reason="ReconciliationPaused", message="no changes while paused")
        return
    try:
        parsed = _parse(name, spec)
    except ValueError as error:
        message = str(error)
        patch.status.update(cluster_status.invalid_status(previous, generation, message, now))
        if announce:
            kopf.warn(body, reason="InvalidSpec", message=message)
            logger.warning("invalid spec: %s", message)
        return  # nothing to retry until the spec changes (and a spec change runs us again)
    cluster = ClusterIdentity(name=name, namespace=namespace, uid=uid)
    api: KubeApi = memo.api
    defaults: OperatorDefaults = memo.defaults
    try:
        applied = [await api.apply(obj) for obj in build_all(cluster, parsed, defaults)]
    except ApiError as error:
        message = f"applying the cluster's objects failed: {error}"
        patch.status.update(cluster_status.failed_apply_status(previous, generation, message, now))
        raise kopf.TemporaryError(message, delay=RETRY_DELAY_S) from error
    statefulset = applied[-1]
    patch.status.update(
        cluster_status.reconciled_status(
            cluster, parsed, previous, generation, statefulset.get("status") or {}, now
        )
    )
    if announce:
        kopf.info(body, reason="Reconciled", message=f"applied {len(applied)} objects")


async def resync(**kwargs: Any) -> None:
    """The periodic pass: the same reconcile, without an event each time."""
    await reconcile(**kwargs, announce=False)


async def cleanup(
    spec: kopf.Spec, name: str, namespace: str | None, memo: Any, logger: kopf.Logger, **_: Any
) -> None:
    """On deletion: owned objects go with their owner; volumes only with deleteClaim.

    StatefulSets delete their claims themselves where persistentVolumeClaimRetentionPolicy
    is supported; this covers the clusters where it is not. Bounded retries: a finalizer must
    never keep a namespace from being deleted."""
    try:
        parsed = StreamClusterSpec.model_validate(dict(spec))
    except ValidationError:
        return
    if not parsed.storage.delete_claim or namespace is None:
        return
    api: KubeApi = memo.api
    cluster = ClusterIdentity(name=name, namespace=namespace, uid="")
    claims = await api.list(
        collection_path("v1", "PersistentVolumeClaim", namespace), cluster.selector()
    )
    for claim in claims:
        claim_name = claim["metadata"]["name"]
        await api.delete(object_path("v1", "PersistentVolumeClaim", namespace, claim_name))
        logger.info("deleted volume claim %s (storage.deleteClaim)", claim_name)


async def statefulset_changed(
    body: kopf.Body, namespace: str | None, memo: Any, logger: kopf.Logger, **_: Any
) -> None:
    """Brokers became (un)ready: carry the StatefulSet's counts into the owner's status.

    The owner's status is read and written with its resourceVersion as a precondition; on a
    conflict (the reconcile handler wrote meanwhile) it is read and computed again."""
    owner = next(
        (
            ref
            for ref in body.metadata.get("ownerReferences") or []
            if ref.get("kind") == "StreamCluster" and ref.get("controller")
        ),
        None,
    )
    if owner is None or namespace is None:
        return
    api: KubeApi = memo.api
    path = object_path(f"{GROUP}/{VERSION}", "StreamCluster", namespace, owner["name"])
    for _attempt in range(STATUS_CONFLICT_RETRIES):
        resource = await api.get(path)
        if resource is None or resource["metadata"].get("uid") != owner.get("uid"):
            return
        update = _readiness_update(owner["name"], resource, body.get("status") or {})
        if update is None:
            return
        try:
            await api.patch_status(path, update, resource["metadata"].get("resourceVersion"))
            return
        except ApiError as error:
            if error.status != 409:
                raise
    logger.info("status of %s kept changing; the next StatefulSet event updates it", path)


def _readiness_update(
    name: str, resource: dict[str, Any], statefulset_status: dict[str, Any]
) -> dict[str, Any] | None:
    """The readiness part of the status, or None when it is already what it should be."""
    try:
        desired = _parse(name, resource.get("spec") or {}).replicas
    except ValueError:
        return None
    previous = resource.get("status") or {}
    update = cluster_status.readiness_status(
        previous,
        previous.get("observedGeneration"),
        int(resource["metadata"].get("generation") or 0),
        desired,
        statefulset_status,
        datetime.now(UTC),
    )
    return update if any(previous.get(key) != value for key, value in update.items()) else None


def _parse(name: str, spec: Any) -> StreamClusterSpec:
    """The spec as the models read it; ValueError with a one-line reason when invalid."""
    if len(name) > MAX_CLUSTER_NAME:
        raise ValueError(f"metadata.name is longer than {MAX_CLUSTER_NAME} characters")
    try:
        return StreamClusterSpec.model_validate(dict(spec))
    except ValidationError as error:
        raise ValueError(_summary(error)) from None


def _summary(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False):
        location = ".".join(str(part) for part in ("spec", *item["loc"]))
        problems.append(f"{location}: {item['msg']}")
    return "; ".join(problems)
