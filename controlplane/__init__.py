"""The strom multi-tenant control plane (strom.controlplane); built in its own issue."""
