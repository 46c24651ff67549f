"""Database helpers of the queue."""

from __future__ import annotations

import contextlib
import datetime
import threading
from collections.abc import Iterator

from django.db import connection, transaction
from django.db.models.functions import Now
from django.utils import timezone

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


def db_now() -> datetime.datetime:
    """The database's clock, as an aware UTC datetime.

    Leases and schedule times are stamped and compared with it, so workers whose host clocks disagree
    still agree on whether a lease has expired and whether a job is due. On PostgreSQL it is the server's
    clock (`statement_timestamp()`, one query). On SQLite the database runs inside each process on one
    host, so the database's clock *is* this host's clock: no query, full microsecond precision (SQLite's
    own `strftime('%f')` has milliseconds only, which would make a job queued this millisecond not due).
    """
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_timestamp()")
        (value,) = cursor.fetchone()
    moment: datetime.datetime = value
    return moment.astimezone(datetime.UTC)


def db_now_expression() -> Now | datetime.datetime:
    """`db_now` for use inside a query, without a round trip of its own: SQL's `statement_timestamp()`
    on PostgreSQL; on SQLite this host's clock as a value (SQLite's own has milliseconds only)."""
    return Now() if connection.vendor == "postgresql" else timezone.now()
