"""Engine creation, schema migration and session factory for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    URL,
    Connection,
    Engine,
    MetaData,
    RowMapping,
    Table,
    bindparam,
    create_engine,
    event,
    insert,
    inspect,
    make_url,
    select,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Executable

from storage.crypto import Keyring, TamperedData, is_token
from storage.models import ENCRYPTED_COLUMNS, HASHED_COLUMNS, Meta

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Execution option for a transaction that only reads: on SQLite it begins DEFERRED, so it can
# read (from the WAL snapshot) while another connection holds the write lock.
SQLITE_BEGIN = "sqlite_begin"
READ_ONLY = {SQLITE_BEGIN: "DEFERRED"}
# An arbitrary constant that identifies "doorbraakbot is migrating" among advisory locks.
_MIGRATION_LOCK_ID = 0x646F6F72
# The key check in the meta table: a known text encrypted under the database's key, so a start
# with another key fails at once instead of at the first plan it reads.
KEY_CHECK = "key_check"
_KEY_CHECK_TEXT = "doorbraakbot key check"
_KEY_CHECK_CONTEXT = "meta.key_check"
# Rows re-encrypted per statement batch.
_BATCH = 500


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


def has_key_check(engine: Engine) -> bool:
    """Whether the database has been encrypted (under some key) already."""
    with _reading(engine) as connection:
        return _key_check(connection) is not None


def ensure_encrypted(engine: Engine, keyring: Keyring) -> None:
    """Check that `keyring` holds the database's key; on the first start with a key, encrypt
    the rows stored before encryption and record the key check. Idempotent.

    Raises WrongKey when the database was encrypted under another key, TamperedData when the
    key check itself was changed.
    """
    with _reading(engine) as connection:
        check = _key_check(connection)
    if check is not None:
        _verify(keyring, check)
        return
    with engine.begin() as connection:
        _lock(connection)
        check = _key_check(connection)
        if check is not None:  # another process got here first
            _verify(keyring, check)
            return
        converted = _encrypt_plaintext(connection, keyring)
        connection.execute(
            insert(Meta).values(
                key=KEY_CHECK, value=keyring.encrypt(_KEY_CHECK_TEXT, context=_KEY_CHECK_CONTEXT)
            )
        )
    if converted:
        logger.warning("encrypted %d rows that were stored before encryption", converted)
        scrub(engine)


def scrub(engine: Engine) -> None:
    """Rewrite the database files so no old copy of a rewritten row is left in them: SQLite
    keeps old cell contents in free space and the WAL, PostgreSQL keeps dead row versions."""
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                # On the driver connection: VACUUM cannot run inside a transaction.
                cursor = connection.connection.cursor()
                try:
                    cursor.execute("VACUUM")
                    cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    cursor.close()
            elif engine.dialect.name == "postgresql":
                connection.execution_options(isolation_level="AUTOCOMMIT")
                for table, _, _ in _encrypted_tables(connection):
                    connection.exec_driver_sql(f'VACUUM FULL "{table.name}"')
    except DBAPIError as exc:
        # The data is encrypted either way; old copies may linger until the next vacuum.
        logger.warning("could not vacuum the database: %s", type(exc.orig).__name__)


def rotate_key(engine: Engine, old: Keyring, new: Keyring) -> int:
    """Re-encrypt every encrypted column and recompute every keyed hash that can be recomputed
    under `new`, in one transaction; returns the number of rows rewritten.

    Hashes of one-time codes (invites, share codes) cannot be recomputed without the codes:
    those codes stop working. Stop every process using the database first: one still holding
    the old key would write values the new key cannot read. Once the new key is stored, call
    scrub(): a key is often replaced because it leaked, and the files still hold old copies.
    """
    with engine.begin() as connection:
        _lock(connection)
        check = _key_check(connection)
        if check is None:
            raise TamperedData("the database has no key check: it was never encrypted")
        _verify(old, check)
        rewritten = 0
        for table, encrypted, hashed in _encrypted_tables(connection):
            change = partial(_reencrypted, old=old, new=new, encrypted=encrypted, hashed=hashed)
            rewritten += _rewrite(connection, table, [*encrypted, *hashed], change)
        connection.execute(
            update(Meta)
            .where(Meta.key == KEY_CHECK)
            .values(value=new.encrypt(_KEY_CHECK_TEXT, context=_KEY_CHECK_CONTEXT))
        )
    logger.info("re-encrypted %d rows under key %s", rewritten, new.key_id)
    return rewritten


@contextmanager
def _reading(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        connection.execution_options(**READ_ONLY)
        with connection.begin():
            yield connection


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})")


def _key_check(connection: Connection) -> str | None:
    return connection.execute(select(Meta.value).where(Meta.key == KEY_CHECK)).scalar_one_or_none()


def _verify(keyring: Keyring, check: str) -> None:
    if keyring.decrypt(check, context=_KEY_CHECK_CONTEXT) != _KEY_CHECK_TEXT:
        raise TamperedData("the key check holds another text")


def _encrypted_tables(
    connection: Connection,
) -> Iterator[tuple[Table, dict[str, str], dict[str, tuple[str, str]]]]:
    """Each existing table with encrypted columns: the table (reflected, so tables of later
    migrations are included), its encrypted columns with their contexts, and its keyed-hash
    columns with the encrypted column and purpose they are computed from."""
    inspector = inspect(connection)
    for name in dict.fromkeys(table for table, _, _ in ENCRYPTED_COLUMNS):
        if not inspector.has_table(name):
            continue
        table = Table(name, MetaData(), autoload_with=connection)
        encrypted = {
            column: context
            for t, column, context in ENCRYPTED_COLUMNS
            if t == name and column in table.c
        }
        hashed = {
            column: (source, purpose)
            for t, column, source, purpose in HASHED_COLUMNS
            if t == name and column in table.c and source in encrypted
        }
        if encrypted:
            yield table, encrypted, hashed


def _encrypt_plaintext(connection: Connection, keyring: Keyring) -> int:
    """Encrypt values stored before encryption: a keyed-hash column without its encrypted
    column still holds the plaintext, and an encrypted column without the token shape too."""
    converted = 0
    for table, encrypted, hashed in _encrypted_tables(connection):
        change = partial(_encrypted, keyring=keyring, encrypted=encrypted, hashed=hashed)
        converted += _rewrite(connection, table, [*encrypted, *hashed], change)
    return converted


def _encrypted(
    row: RowMapping,
    *,
    keyring: Keyring,
    encrypted: Mapping[str, str],
    hashed: Mapping[str, tuple[str, str]],
) -> dict[str, Any]:
    """The values to set to encrypt a row stored before encryption (none if it already is)."""
    values: dict[str, Any] = {}
    for column, (source, purpose) in hashed.items():
        if row[source] is None:
            text = row[column]
            values[column] = keyring.hash(text, purpose=purpose)
            values[source] = keyring.encrypt(text, context=encrypted[source])
    for column, context in encrypted.items():
        value = row[column]
        if column not in values and value is not None and not is_token(value):
            values[column] = keyring.encrypt(value, context=context)
    return values


def _reencrypted(
    row: RowMapping,
    *,
    old: Keyring,
    new: Keyring,
    encrypted: Mapping[str, str],
    hashed: Mapping[str, tuple[str, str]],
) -> dict[str, Any]:
    """The values to set to move a row from the old key to the new one."""
    plain = {
        column: None if row[column] is None else old.decrypt(row[column], context=context)
        for column, context in encrypted.items()
    }
    values: dict[str, Any] = {
        column: None if text is None else new.encrypt(text, context=encrypted[column])
        for column, text in plain.items()
    }
    for column, (source, purpose) in hashed.items():
        text = plain[source]
        if text is None:
            raise TamperedData(f"{encrypted[source]}: the encrypted value is missing")
        values[column] = new.hash(text, purpose=purpose)
    return values


def _rewrite(
    connection: Connection,
    table: Table,
    columns: Sequence[str],
    change: Callable[[RowMapping], dict[str, Any]],
) -> int:
    """Apply `change` (a row's `columns` in, the columns to set out) to every row, in batches."""
    (pk,) = table.primary_key.columns
    # All ids first, so that rows changed in one batch cannot turn up again in a later one.
    ids = connection.execute(select(pk).order_by(pk)).scalars().all()
    selected = [pk, *(table.c[name] for name in columns if name != pk.name)]
    changed = 0
    for start in range(0, len(ids), _BATCH):
        rows = connection.execute(select(*selected).where(pk.in_(ids[start : start + _BATCH])))
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows.mappings():
            values = change(row)
            if values:
                names = tuple(sorted(values))
                params = {f"new_{c}": v for c, v in values.items()}
                by_columns.setdefault(names, []).append({"row_pk": row[pk.name], **params})
        for names, params_list in by_columns.items():
            statement = (
                update(table)
                .where(pk == bindparam("row_pk"))
                .values({c: bindparam(f"new_{c}") for c in names})
            )
            connection.execute(statement, params_list)
            changed += len(params_list)
    return changed


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def run(
    session: Session,
    statement: Executable,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> CursorResult[Any]:
    """Execute a prebuilt Core statement on the session's connection, in its transaction.

    For the statements every turn runs: Session.execute adds the ORM's per-statement work,
    and building a statement anew each time adds its construction and cache-key work; this
    path costs about a sixth of both (17 against 110 microseconds on SQLite). Pending ORM
    changes are flushed first, as Session.execute would.
    """
    session.flush()
    return session.connection().execute(statement, params)
