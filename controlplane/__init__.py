"""The strom multi-tenant control plane: a FastAPI service over SQL (SQLite or PostgreSQL).

Build the ASGI app with `strom.controlplane.app.create_app(settings)`; nothing here does work at
import time.
"""
