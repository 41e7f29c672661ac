"""The strom Kubernetes operator: StreamCluster, StreamTopic and StreamUser resources (kopf)."""
