"""Alembic migrations of the control-plane schema; `runner` applies and checks them."""
