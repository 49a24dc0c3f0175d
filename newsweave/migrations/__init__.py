"""Alembic migrations of the store; see ``versions/``."""
