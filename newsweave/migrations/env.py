"""Alembic environment for newsweave's store.

The store runs migrations itself when it opens (:func:`newsweave.store.upgrade`),
passing an open connection in ``config.attributes["connection"]`` that already
holds the store's write lock; the ``alembic`` command line works too, with
``sqlalchemy.url`` set in its configuration.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from newsweave.store import metadata

config = context.config
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
else:  # pragma: no cover - the alembic CLI path
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///newsweave.db")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
