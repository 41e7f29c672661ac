"""The HTTP side listener: /healthz, /readyz and Prometheus /metrics."""
