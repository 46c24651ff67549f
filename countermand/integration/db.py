"""Database helpers of the queue."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from django.db import connection, transaction

_sqlite_writer = threading.RLock()

# The PostgreSQL channel on which a committed job wakes sleeping workers (LISTEN in the worker, NOTIFY on enqueue).
NOTIFY_CHANNEL = "countermand_jobs"


@contextlib.contextmanager
def write_transaction() -> Iterator[None]:
    """`transaction.atomic()`; on SQLite also one writing thread per process at a time.

    SQLite admits one writer; threads of one worker that collide on its lock wait in SQLite's busy
    handler, which sleeps for milliseconds at a time. Queuing them on a Python lock first hands the
    database over at once. (Processes still meet at SQLite's lock; PostgreSQL needs none of this.)
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        with transaction.atomic():
            yield
        return
    with _sqlite_writer, transaction.atomic():
        yield
