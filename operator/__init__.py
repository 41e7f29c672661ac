"""The strom Kubernetes operator (strom.operator); built in its own issue."""
