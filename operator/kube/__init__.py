"""The operator's own door into the Kubernetes API (kopf's client is private to kopf)."""
