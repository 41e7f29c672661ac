"""Fixtures that start real processes for tests (brokers now; more as parts land)."""
