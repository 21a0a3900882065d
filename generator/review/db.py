"""Engines for the review store and its migrations.

SQLite (the default, ``<workspace>/.hocvu/hocvu.db``) runs in WAL mode with a busy timeout, and write
transactions start with ``BEGIN IMMEDIATE`` so that read-check-write sequences of two processes are
serialised instead of failing half-way. PostgreSQL (``postgresql+psycopg://USER:PASSWORD@HOST/DB``, with
the ``postgres`` extra installed) runs the same migrations and workflow; there the ``row_version``
counter catches a concurrent update (the second of two racing decisions updates no row: a conflict), and
an advisory lock keeps two processes from migrating the same database at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Connection, Engine, make_url

from generator.errors import ConfigError, ReviewError
from generator.i18n import N_, Message

if TYPE_CHECKING:
    from generator.config import Settings

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
WRITE = {"hocvu_write": True}
#: The newest migration in ``migrations/versions`` (a test keeps the two in step).
HEAD = "0006"
#: The PostgreSQL advisory lock held while migrating (any fixed number, the same in every process).
_MIGRATION_LOCK = 48_151_623


def database_url(settings: Settings) -> str:
    """The configured URL, or SQLite under ``<workspace>/.hocvu/hocvu.db``."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{settings.state_dir / 'hocvu.db'}"


def make_engine(url: str | URL) -> Engine:
    """An engine for ``url`` with hocvu's SQLite settings; ConfigError for an unusable URL."""
    try:
        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy.exc.ArgumentError and friends
        raise ConfigError("database URL {url!r} is not valid: {exc}; check HOCVU_DATABASE_URL",
                          url=str(url), exc=exc) from exc
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(parsed, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            hint = (N_("install the PostgreSQL driver: pip install 'hocvu[postgres]', and write the URL as "
                       "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB")
                    if parsed.get_backend_name() == "postgresql" else N_("install its driver"))
            raise ConfigError(
                "cannot use database {url}: {problem}; {hint}",
                url=parsed.render_as_string(hide_password=True), problem=exc, hint=Message(hint),
            ) from exc
        except Exception as exc:
            raise ConfigError(
                "cannot use database {url}: {exc}",
                url=parsed.render_as_string(hide_password=True), exc=exc,
            ) from exc
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        if parsed.database and parsed.database != ":memory:":
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("hocvu_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _alembic_config(connection: Connection) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration shipped with this hocvu."""
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(None)  # type: ignore[arg-type]
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    """The migration a database is at (None: empty)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _recorded_revision(connection: Connection) -> str | None:
    # The same answer as current_revision without importing alembic (most opens need nothing more).
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("select version_num from alembic_version")).scalar()


def migrate(engine: Engine, revision: str = "head") -> str:
    """Upgrade the database to ``revision`` (a no-op when it is there); returns the revision reached.

    The upgrade runs in one write transaction, so two processes opening a new database do not both
    create it; a database already at the head is only read.
    """
    from sqlalchemy.exc import SQLAlchemyError

    try:
        if revision == "head":
            with engine.connect() as conn:
                if _recorded_revision(conn) == HEAD:
                    return HEAD
        from alembic import command

        head = head_revision() if revision == "head" else revision
        with engine.execution_options(**WRITE).begin() as conn:
            if conn.dialect.name == "postgresql":  # SQLite's BEGIN IMMEDIATE does this there
                conn.exec_driver_sql(f"select pg_advisory_xact_lock({_MIGRATION_LOCK})")
            current = current_revision(conn)
            if current == head:
                return head
            if current is not None and current not in _known_revisions():
                raise ReviewError(
                    "the database is at migration {current!r}, which this hocvu does not know "
                    "(made by a newer version?); upgrade hocvu",
                    current=current,
                )
            command.upgrade(_alembic_config(conn), revision)
            return current_revision(conn) or ""
    except SQLAlchemyError as exc:
        from generator.review.health import store_error

        err = store_error(exc)
        raise (ReviewError("cannot open or migrate the review store: {err}", err=err) if type(err) is ReviewError
               else err) from exc


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    cfg = _alembic_config(None)  # type: ignore[arg-type]
    return {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}
