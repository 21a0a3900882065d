"""Alembic environment for the review store.

The store runs migrations itself on open (``generator.review.db.migrate``), handing over its connection
in ``config.attributes["connection"]``. For a developer writing a new migration::

    HOCVU_DATABASE_URL=sqlite:///scratch.db alembic -c generator/review/migrations/alembic.ini \
        revision --autogenerate -m "what changes"
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from generator.review.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )


def run_migrations_online() -> None:
    """Migrate through the store's connection, or one made from the configured URL."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from generator.config import load_settings
    from generator.review.db import database_url

    url = config.get_main_option("sqlalchemy.url") or database_url(load_settings())
    engine = create_engine(url)
    with engine.begin() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run them against a database")
run_migrations_online()
