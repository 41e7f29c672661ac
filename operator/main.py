"""Run the operator: kopf settings, login, handler registration. `strom operator run`."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import kopf

from strom.operator.kube.client import KubeApi
from strom.operator.streamcluster import handlers as streamcluster_handlers
from strom.operator.streamcluster.builders import OperatorDefaults

FINALIZER = "strom.dev/finalizer"
# kopf ignores every annotation under a prefix it keeps its own state in (it marks it with
# `<prefix>/kopf-managed`), so its state must not share strom.dev/ with user-facing
# annotations such as strom.dev/pause-reconciliation.
KOPF_STATE_PREFIX = "kopf.strom.dev"


@dataclass(frozen=True, slots=True)
class OperatorOptions:
    """What `strom operator run` was asked for."""

    namespaces: tuple[str, ...] = ()
    all_namespaces: bool = False
    peering: str | None = None
    broker_image: str | None = None
    liveness_endpoint: str | None = None
    resync_interval: float = streamcluster_handlers.RESYNC_INTERVAL_S


def default_broker_image() -> str:
    """The broker image of this release: the one image that holds broker, operator and CLI."""
    try:
        return f"strom:{version('strom')}"
    except PackageNotFoundError:  # pragma: no cover - only in a source tree without metadata
        return "strom:latest"


SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token"


def has_credentials() -> bool:
    """Whether `login` can find anything; kopf would otherwise retry logging in forever."""
    kubeconfig = os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    return os.path.exists(SERVICE_ACCOUNT_TOKEN) or any(
        os.path.exists(path) for path in kubeconfig.split(os.pathsep) if path
    )


def build_registry(
    resync_interval: float = streamcluster_handlers.RESYNC_INTERVAL_S,
) -> kopf.OperatorRegistry:
    """A registry with every handler, so nothing depends on import-time side effects."""
    registry = kopf.OperatorRegistry()
    kopf.on.startup(registry=registry)(configure)
    kopf.on.login(registry=registry)(login)
    kopf.on.cleanup(registry=registry)(close_api)
    streamcluster_handlers.register(registry, resync_interval)
    return registry


def run(options: OperatorOptions) -> None:
    """Run in the foreground until SIGINT/SIGTERM."""
    memo = kopf.Memo(
        api=KubeApi(),
        defaults=OperatorDefaults(broker_image=options.broker_image or default_broker_image()),
    )
    kopf.run(
        registry=build_registry(options.resync_interval),
        memo=memo,
        clusterwide=options.all_namespaces,
        namespaces=list(options.namespaces),
        standalone=options.peering is None,
        peering_name=options.peering,
        liveness_endpoint=options.liveness_endpoint,
    )


def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    """kopf keeps its bookkeeping in annotations, so `status` holds only what the CRD
    schema declares (the API server would prune anything else)."""
    settings.persistence.finalizer = FINALIZER
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(
        prefix=KOPF_STATE_PREFIX
    )
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=KOPF_STATE_PREFIX, key="last-handled-configuration"
    )
    settings.posting.level = logging.INFO
    settings.watching.server_timeout = 300
    settings.networking.request_timeout = 60


def login(settings: kopf.OperatorSettings, memo: Any, **kwargs: Any) -> kopf.ConnectionInfo:
    """In a pod: its service account; elsewhere: the kubeconfig (KUBECONFIG or ~/.kube)."""
    info = kopf.login_with_service_account(settings=settings, **kwargs) or (
        kopf.login_with_kubeconfig(settings=settings, **kwargs)
    )
    if info is None:
        raise kopf.LoginError("no service account token and no kubeconfig found")
    memo.api.use(info)
    return info


async def close_api(memo: Any, **_: Any) -> None:
    await memo.api.close()
