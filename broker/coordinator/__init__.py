"""Coordinators: producer ids now; consumer groups and transactions as they land."""
