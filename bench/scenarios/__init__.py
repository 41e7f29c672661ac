"""Strom scenarios: each measures one thing against a running broker and returns result rows."""
