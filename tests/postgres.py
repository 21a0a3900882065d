"""The store suite on PostgreSQL as well as SQLite: a fixture that gives each test its database.

``HOCVU_TEST_POSTGRES_URL`` (e.g. ``postgresql+psycopg://hocvu:…@127.0.0.1:5433/hocvu_test``) names a
database the tests may empty at will; ``.ci/run`` starts a throw-away PostgreSQL on loopback and sets it.
Without it the PostgreSQL half of each test is skipped, saying so.
"""

from __future__ import annotations

import os

import pytest

ENV = "HOCVU_TEST_POSTGRES_URL"
SKIP_REASON = (f"no PostgreSQL to test against: set {ENV}=postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB "
               "(a database the tests may empty; `.ci/run` starts one and sets it)")
_migrated: set[str] = set()
#: Read when the tests are collected: the autouse fixture of conftest removes HOCVU_* from each test's env.
_URL = os.environ.get(ENV) or None


def postgres_url() -> str | None:
    """The PostgreSQL database the tests may use, or None."""
    return _URL


def empty_postgres(url: str) -> None:
    """Leave the database with the store's tables at the newest migration and no rows in them: migrated
    from nothing the first time in a session (the migrations are under test too), emptied after that."""
    from sqlalchemy import inspect

    from generator.review.db import make_engine, migrate
    from generator.review.store.core import MARKERS

    MARKERS.clear()  # emptied behind the stores' backs: no list may trust what it read before
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            tables = inspect(conn).get_table_names()
            if url not in _migrated:
                for table in tables:
                    conn.exec_driver_sql(f'drop table if exists "{table}" cascade')
            elif tables:
                names = ", ".join(f'"{t}"' for t in tables if t != "alembic_version")
                conn.exec_driver_sql(f"truncate {names} restart identity cascade")
        if url not in _migrated:
            migrate(engine)
            _migrated.add(url)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_backend(request: pytest.FixtureRequest, workspace: object, monkeypatch: pytest.MonkeyPatch) -> str:
    """The database this test's store lives in: SQLite in the workspace (the default), then PostgreSQL
    (``HOCVU_DATABASE_URL`` pointed at an emptied test database), or skipped when there is none."""
    if request.param == "postgresql":
        url = postgres_url()
        if url is None:
            pytest.skip(SKIP_REASON)
        empty_postgres(url)
        monkeypatch.setenv("HOCVU_DATABASE_URL", url)
    return str(request.param)
