"""Engine creation, schema migration and session factory for SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
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
    RowMapping,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    insert,
    inspect,
    make_url,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from storage.crypto import Keyring, TamperedData, is_token
from storage.models import (
    Meta,
    encrypted_columns,
    hashed_columns,
    protected_columns,
    protected_tables,
)
from storage.tx import READ_ONLY, SQLITE_BEGIN

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# An arbitrary constant that identifies "doorbraakbot is migrating" among advisory locks.
_MIGRATION_LOCK_ID = 0x646F6F72
# The key check in the meta table: a known text encrypted under the database's key, so a start
# with another key fails at once instead of at the first plan it reads.
KEY_CHECK = "key_check"
_KEY_CHECK_TEXT = "doorbraakbot key check"
_KEY_CHECK_CONTEXT = "meta.key_check"
# The form of the stored values, with the schema revision it was last checked at (see
# ensure_encrypted): "2" is every value bound to its row as associated data.
STORAGE_FORMAT = "storage_format"
_ROW_BOUND = "2"
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
    """Check that `keyring` holds the database's key, and bring every stored value to the
    current form; idempotent, and a start with nothing to convert only reads the meta table.

    A conversion runs, under the migration lock, on the first start with a key and on the
    first start after a migration: values stored before their column was encrypted (on the
    first keyed start; chat ids after migration 0006) are encrypted, and values of databases
    from before row binding are re-encrypted bound to their rows. Then the key check and the
    form are recorded, and the files scrubbed of the old copies.

    Raises WrongKey when the database was encrypted under another key, TamperedData when the
    key check itself was changed.
    """
    with _reading(engine) as connection:
        check, form = _meta(connection)
        wanted = _wanted_form(connection)
    if check is not None:
        _verify(keyring, check)
        if form == wanted:
            return
    with engine.begin() as connection:
        _lock(connection)
        check, form = _meta(connection)
        if check is not None:
            _verify(keyring, check)
            if form == wanted:  # another process got here first
                return
        # Encrypted under a key, but before row binding: every value is of the unbound form.
        unbound = check is not None and (form is None or form.split(":")[0] != _ROW_BOUND)
        converted = _convert(connection, keyring, unbound=unbound)
        if check is None:
            connection.execute(
                insert(Meta).values(
                    key=KEY_CHECK,
                    value=keyring.encrypt(_KEY_CHECK_TEXT, context=_KEY_CHECK_CONTEXT),
                )
            )
        connection.execute(delete(Meta).where(Meta.key == STORAGE_FORMAT))
        connection.execute(insert(Meta).values(key=STORAGE_FORMAT, value=wanted))
    if converted:
        logger.warning("converted %d rows to the current encrypted form", converted)
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
                for table in _protected_tables(connection):
                    connection.exec_driver_sql(f'VACUUM FULL "{table.name}"')
    except DBAPIError as exc:
        # The data is encrypted either way; old copies may linger until the next vacuum.
        logger.warning("could not vacuum the database: %s", type(exc.orig).__name__)


def rotate_key(engine: Engine, old: Keyring, new: Keyring) -> int:
    """Re-encrypt every encrypted column and recompute every keyed hash that can be recomputed
    under `new`, in one transaction; returns the number of rows rewritten. The columns are
    those declared on the models (storage.models.Encrypted, Hashed), the inbox's included:
    updates still waiting are applied after the restart.

    Hashes of one-time codes (invites, share codes) cannot be recomputed without the codes:
    those codes stop working. So cannot a hash whose encrypted copy is missing (an inbox
    row from before migration 0006): it is cleared rather than left computed under a key
    that may have leaked. Stop every process using the database first: one still holding
    the old key would write values the new key cannot read. Once the new key is stored, call
    scrub(): a key is often replaced because it leaked, and the files still hold old copies.
    """
    with engine.begin() as connection:
        _lock(connection)
        check, _ = _meta(connection)
        if check is None:
            raise TamperedData("the database has no key check: it was never encrypted")
        _verify(old, check)
        rewritten = 0
        for table in _protected_tables(connection):
            rewritten += _rewrite(connection, table, partial(_reencrypted, old=old, new=new))
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


def _meta(connection: Connection) -> tuple[str | None, str | None]:
    """The key check and the recorded form of the stored values."""
    query = select(Meta.key, Meta.value).where(Meta.key.in_([KEY_CHECK, STORAGE_FORMAT]))
    rows = {key: value for key, value in connection.execute(query)}
    return rows.get(KEY_CHECK), rows.get(STORAGE_FORMAT)


def _wanted_form(connection: Connection) -> str:
    # With the schema revision: a migration that adds a column holding plaintext, to be
    # encrypted with the key, makes the next start convert without having to say so.
    revision = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    return f"{_ROW_BOUND}:{revision}"


def _verify(keyring: Keyring, check: str) -> None:
    if keyring.decrypt(check, context=_KEY_CHECK_CONTEXT) != _KEY_CHECK_TEXT:
        raise TamperedData("the key check holds another text")


def _protected_tables(connection: Connection) -> list[Table]:
    """The model tables with encrypted columns that exist in this database."""
    inspector = inspect(connection)
    return [table for table in protected_tables() if inspector.has_table(table.name)]


def _convert(connection: Connection, keyring: Keyring, *, unbound: bool) -> int:
    """Encrypt values stored before their column was encrypted and, with `unbound`,
    re-encrypt values of the unbound form, each bound to its row; the rows changed."""
    converted = 0
    for table in _protected_tables(connection):
        change = partial(_converted, keyring=keyring, unbound=unbound)
        converted += _rewrite(connection, table, change)
    return converted


def _converted(
    row: RowMapping, table: Table, *, keyring: Keyring, unbound: bool
) -> dict[str, Any]:
    """The values to set to bring a row to the current form (none if it is)."""
    plain: dict[str, str] = {}
    values: dict[str, Any] = {}
    for column, hashed in hashed_columns(table).items():
        if hashed.plaintext_before and row[hashed.source] is None and row[column] is not None:
            text = str(row[column])
            values[column] = keyring.hash(text, purpose=hashed.purpose)
            plain[hashed.source] = text
    bound_to = {**row, **values}
    for column, spec in encrypted_columns(table).items():
        value = row[column]
        if column in plain:
            text = plain[column]
        elif value is None:
            continue
        elif not is_token(value):
            text = value  # stored before encryption
        elif unbound:
            text = keyring.decrypt(value, context=spec.context)
        else:
            continue
        values[column] = spec.seal(keyring, text, bound_to)
    return values


def _reencrypted(row: RowMapping, table: Table, *, old: Keyring, new: Keyring) -> dict[str, Any]:
    """The values to set to move a row from the old key to the new one."""
    encrypted = encrypted_columns(table)
    plain = {
        column: None if row[column] is None else spec.open(old, row[column], row)
        for column, spec in encrypted.items()
    }
    values: dict[str, Any] = {}
    for column, hashed in hashed_columns(table).items():
        text = plain[hashed.source]
        if text is not None:
            values[column] = new.hash(text, purpose=hashed.purpose)
        elif row[column] is not None:
            if not table.c[column].nullable:
                raise TamperedData(f"{encrypted[hashed.source].context}: the value is missing")
            values[column] = None
    bound_to = {**row, **values}
    for column, text in plain.items():
        values[column] = None if text is None else encrypted[column].seal(new, text, bound_to)
    return values


def _rewrite(
    connection: Connection,
    table: Table,
    change: Callable[[RowMapping, Table], dict[str, Any]],
) -> int:
    """Apply `change` (a row's protected columns and its table in, the columns to set out)
    to every row of `table`, in batches; the number of rows changed."""
    (pk,) = table.primary_key.columns
    # All ids first, so that rows changed in one batch cannot turn up again in a later one.
    ids = connection.execute(select(pk).order_by(pk)).scalars().all()
    selected = [pk, *(c for c in protected_columns(table) if c.name != pk.name)]
    changed = 0
    for start in range(0, len(ids), _BATCH):
        rows = connection.execute(select(*selected).where(pk.in_(ids[start : start + _BATCH])))
        by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows.mappings():
            values = change(row, table)
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
