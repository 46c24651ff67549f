"""Database helpers of the queue."""

from __future__ import annotations

import contextlib
import datetime
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

_sqlite_writer = threading.RLock()

# The PostgreSQL channel on which a committed job wakes sleeping workers (LISTEN in the worker, NOTIFY on enqueue).
NOTIFY_CHANNEL = "countermand_jobs"

# Query-string options of a DATABASE_URL that are Django's, not libpq's: left out of the LISTEN connection.
_DJANGO_OPTIONS = frozenset(
    {"conn_max_age", "conn_health_checks", "server_side_binding", "prepare_threshold", "pool", "isolation_level"}
    | {"assume_role", "cursor_factory", "disable_server_side_cursors"}
)


def listen_connection_params() -> dict[str, str]:
    """`psycopg.connect()` keyword arguments of the connection a worker LISTENs on.

    A notification reaches the server session that ran LISTEN, so the listener needs a connection that stays
    one session: a direct one. Behind a pooler in transaction mode (PgBouncer), DATABASE_URL names the pooler,
    which hands each transaction to whichever server connection is free, and `COUNTERMAND_LISTEN_DATABASE_URL`
    names the PostgreSQL server itself (postgres://user:password@host:5432/name). Unset, it is the default
    database (DATABASE_URL). NOTIFY needs no session: it is sent through the default database, pooled or not.
    """
    url = getattr(settings, "COUNTERMAND_LISTEN_DATABASE_URL", "")
    return _psycopg_params(_listen_database(url) if url else connection.settings_dict)


def _listen_database(url: str) -> Mapping[str, Any]:
    if urlsplit(url).scheme not in ("postgres", "postgresql", "pgsql"):
        raise ImproperlyConfigured("COUNTERMAND_LISTEN_DATABASE_URL must be a postgres://user:password@host:5432/name")
    try:
        return dj_database_url.parse(url)
    except ValueError:
        # Not the URL itself in the message: it may hold a password.
        raise ImproperlyConfigured(
            "COUNTERMAND_LISTEN_DATABASE_URL is not a valid URL: the port must be a number, and characters such "
            "as @ : / in the user name or password must be percent-quoted (@ is %40)"
        ) from None


def _psycopg_params(entry: Mapping[str, Any]) -> dict[str, str]:
    options = {
        key: value[-1] if isinstance(value, list) else value
        for key, value in (entry.get("OPTIONS") or {}).items()
        if key not in _DJANGO_OPTIONS
    }
    params = {
        **options,
        "dbname": entry.get("NAME"),
        "user": entry.get("USER"),
        "password": entry.get("PASSWORD"),
        "host": entry.get("HOST"),
        "port": entry.get("PORT"),
    }
    return {key: str(value) for key, value in params.items() if value not in (None, "")}


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
