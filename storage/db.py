"""Engine creation, schema migration and session factory for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Execution option for a transaction that only reads: on SQLite it begins DEFERRED, so it can
# read (from the WAL snapshot) while another connection holds the write lock.
SQLITE_BEGIN = "sqlite_begin"
READ_ONLY = {SQLITE_BEGIN: "DEFERRED"}
# An arbitrary constant that identifies "doorbraakbot is migrating" among advisory locks.
_MIGRATION_LOCK_ID = 0x646F6F72


def create_engine_for(url: str, *, sqlite_busy_timeout_ms: int = 5000) -> Engine:
    """Create an engine for ``url``, with durable and properly transactional SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)

    path = _sqlite_file_path(parsed)
    if path is not None and parsed.query.get("mode") != "ro":
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed)
    _configure_sqlite(engine, busy_timeout_ms=sqlite_busy_timeout_ms)
    return engine


def _sqlite_file_path(url: URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:":
        return None
    if url.query.get("uri") in ("true", "1") and database.startswith("file:"):
        path = unquote(urlsplit(database).path)
        if not path or url.query.get("mode") == "memory":
            return None
        return Path(path)
    return Path(database)


def _configure_sqlite(engine: Engine, *, busy_timeout_ms: int) -> None:
    # pysqlite's legacy transaction handling only emits BEGIN before DML, so SELECTs and DDL
    # run outside the transaction, and when it does begin it uses a deferred BEGIN. A deferred
    # transaction that reads and then writes cannot wait for the write lock in WAL mode: SQLite
    # fails it at once with "database is locked" because its snapshot may be stale. So we take
    # transaction control away from the driver (isolation_level=None) and start every
    # transaction with BEGIN IMMEDIATE, as in the SQLAlchemy SQLite dialect docs ("Enabling
    # Non-Legacy SQLite Transactional Modes"): a writer takes the lock up front and waits up to
    # busy_timeout for it. The cost: transactions through this engine, reads included, are
    # serialised per database file, which suits a single bot process.
    # The Python 3.12 ``autocommit=False`` alternative is not available on Python 3.11.

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # First, so that the statements below also wait for a lock held elsewhere.
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            try:
                cursor.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as exc:
                # A read-only database cannot switch journal mode; it is still readable.
                if "readonly" not in str(exc):
                    raise
            # Every answer must be on disk before the next question is sent.
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")


def alembic_config(connection: Connection | None = None, *, url: str | None = None) -> Config:
    """Build the Alembic configuration in code, so no alembic.ini or logging setup is needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Upgrade the database schema to the latest revision; a no-op when it is up to date."""
    if engine.dialect.name == "sqlite":
        _migrate_sqlite(engine)
    else:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                # Workers started together would otherwise race to create the same tables;
                # the lock is released when this transaction ends.
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")
            command.upgrade(alembic_config(connection), "head")
    logger.debug("database schema is up to date")


def _migrate_sqlite(engine: Engine) -> None:
    # SQLite's batch migrations copy a table and drop the original; with foreign keys on, that
    # DROP would cascade and delete every answer of every plan. The pragma only takes effect
    # outside a transaction, hence the raw driver connection before SQLAlchemy begins one.
    with engine.connect() as connection:
        cursor = connection.connection.cursor()
        cursor.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                command.upgrade(alembic_config(connection), "head")
                violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if violations:
                    raise RuntimeError(f"migration left {len(violations)} foreign key violations")
        finally:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)
