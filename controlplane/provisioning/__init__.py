"""Provisioning: backends that run clusters, and the reconciler that drives them from SQL."""
