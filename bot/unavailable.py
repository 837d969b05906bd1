"""One error for every front end when the database cannot be used (locked, read-only, gone).

It is raised by the unit of work (storage.uow), the one place that translates the driver's
error; the front ends import it from here.
"""

from storage.uow import StorageUnavailable, available

__all__ = ["StorageUnavailable", "available"]
