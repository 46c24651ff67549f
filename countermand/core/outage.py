"""A database that cannot be reached: 503 with `Retry-After`, never a 500 and a traceback per request.

PostgreSQL stopped or restarting, a pooler gone, SQLite locked past its busy timeout: Django raises
`OperationalError` (or `InterfaceError` for a connection it had already lost). Every entry point answers it the
same way — the API `503 {code: "DATABASE_UNAVAILABLE", message, retryAfter}` (countermand/api/errors.py), the
storefront and the console a friendly 503 page (countermand/project/middleware.py) — and the log gets one
warning line per burst (`outage_log`), not one traceback per request. Nothing is cached across the outage:
the next request opens a new connection, so service resumes by itself once the database is back.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import InterfaceError, OperationalError

logger = logging.getLogger("countermand.database")

DATABASE_UNAVAILABLE = "DATABASE_UNAVAILABLE"
RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE_MESSAGE = (
    "The database cannot be reached right now; nothing was changed. Try again in a few seconds."
)
# Errors of one outage closer together than this are one burst: one log line (and a count in the next one).
BURST_SECONDS = 30.0


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (not a bug in a query: those stay 500s)."""
    return isinstance(exc, OperationalError | InterfaceError)


def database_unavailable_body() -> dict[str, object]:
    """The API's error body for it (the shape of `api.errors.error_body`)."""
    return {
        "code": DATABASE_UNAVAILABLE,
        "message": DATABASE_UNAVAILABLE_MESSAGE,
        "exceptionMessage": DATABASE_UNAVAILABLE_MESSAGE,
        "retryAfter": RETRY_AFTER_SECONDS,
    }


class _BurstLog:
    """Logs the first error of a burst as one warning line; the rest of the burst is only counted, and the
    count is said with the first line of the next burst. Shared by the threads of a process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_seen = float("-inf")
        self._unlogged = 0

    def note(self, exc: BaseException, where: str) -> bool:
        """Record one error; returns True when it was logged (the first of its burst)."""
        now = time.monotonic()
        with self._lock:
            first = now - self._last_seen > BURST_SECONDS
            self._last_seen = now
            if not first:
                self._unlogged += 1
                return False
            earlier, self._unlogged = self._unlogged, 0
        detail = " ".join(str(exc).split())[:300]
        logger.warning(
            "database unavailable (%s: %s) at %s; answering 503 until it is back%s",
            type(exc).__name__,
            detail,
            where,
            f" ({earlier} more requests met the previous outage)" if earlier else "",
        )
        return True


_burst = _BurstLog()


def outage_log(exc: BaseException, where: str) -> bool:
    """Log a database outage met at `where` (a request path, a view), once per burst. Returns True when this
    call wrote the line."""
    return _burst.note(exc, where)
