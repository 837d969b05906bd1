"""One error for every front end when the database cannot be used (locked, read-only, gone)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import OperationalError


class StorageUnavailable(Exception):
    """The database cannot be read or written (locked, read-only, gone)."""


@contextmanager
def available() -> Iterator[None]:
    """Turn the driver's error for an unusable database into StorageUnavailable."""
    try:
        yield
    except OperationalError as exc:
        raise StorageUnavailable(str(exc.orig)) from exc
