"""The CRD models (group strom.dev, version v1alpha1): the one source of the CRD schemas.

The control plane writes these resources and may import these models; nothing else of the
operator.
"""

from strom.operator.crds.base import API_VERSION, GROUP, VERSION
from strom.operator.crds.streamcluster import StreamClusterSpec, StreamClusterStatus
from strom.operator.crds.streamtopic import StreamTopicSpec, StreamTopicStatus
from strom.operator.crds.streamuser import StreamUserSpec, StreamUserStatus

__all__ = [
    "API_VERSION",
    "GROUP",
    "VERSION",
    "StreamClusterSpec",
    "StreamClusterStatus",
    "StreamTopicSpec",
    "StreamTopicStatus",
    "StreamUserSpec",
    "StreamUserStatus",
]
