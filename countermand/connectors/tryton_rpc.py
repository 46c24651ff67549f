"""A small JSON-RPC client for Tryton 8.2 (``trytond``), built on httpx.

This module is plain Python (no Django imports) so that it can be used by the
integration processors, by the test harness and from a shell alike.

Protocol (measured against trytond 8.2.1)
-----------------------------------------
* Every call is ``POST {url}/{database}/rpc/`` with the body
  ``{"id": N, "method": "...", "params": [...]}``.
* ``common.db.login`` takes ``[login, {"password": password}, language]`` and
  returns ``[user_id, session, bus_url]``.  A wrong password is answered with
  HTTP 401, an unknown database with HTTP 404 and too many failed attempts with
  HTTP 429.
* Later calls carry ``Authorization: Session base64(login:user_id:session)``
  and the context as their *last* parameter (``{}`` is enough for reading,
  searching and the sale workflow buttons; creating records needs the company
  in the context, e.g. ``{"company": 1}``).
* An unknown or expired session (``[session] timeout``, 600 s of inactivity by
  default) is answered with HTTP 401: the client logs in again once and retries.
  Sessions are stored in the Tryton database, so they survive a server restart.
* Errors raised by Tryton come back with HTTP 200 as ``{"error": [...]}``:
  ``["UserError", [message, description, domain]]`` for a refusal by the
  business logic (for instance ``You can not call "cancel" on "SO00003 [WEB-1]"
  of "Sale".`` for a sale in the ``processing``, ``done`` or ``cancelled``
  state), ``["UserWarning", [name, message, description]]``,
  ``["LoginException", [name, message, type]]`` or ``[str(exception), traceback]``
  for an unexpected server error.
* Values that JSON cannot express travel as tagged objects, for instance
  ``{"__class__": "Decimal", "decimal": "10.00"}`` or
  ``{"__class__": "date", "year": 2025, "month": 1, "day": 31}``; this client
  converts them to and from :class:`decimal.Decimal`, :class:`datetime.date`,
  :class:`datetime.datetime`, :class:`datetime.time`,
  :class:`datetime.timedelta` and :class:`bytes`.

Exceptions
----------
All exceptions derive from :class:`TrytonError`:

* :class:`TrytonUserError` — Tryton refused the request (its message text is
  kept); retrying will not help.
* :class:`TrytonAuthError` — the credentials were refused.
* :class:`TrytonUnavailable` — connection refused, timeout, HTTP 5xx or rate
  limiting: a transient condition, worth retrying later.
* :class:`TrytonLookupError` — a lookup matched more than one record.

Sessions
--------
Sessions are cached per process, keyed by ``(url, database, login)`` (and only
reused by a client that knows the same password), so that a worker process
logs in once and every :class:`TrytonClient` for that connection shares the
session.  The cache is thread-safe.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import itertools
import json
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any, Final, Literal

import httpx

__all__ = [
    "SALE_FIELDS",
    "TrytonAuthError",
    "TrytonClient",
    "TrytonError",
    "TrytonLookupError",
    "TrytonUnavailable",
    "TrytonUserError",
    "clear_session_cache",
    "decode_json",
    "encode_json",
]

logger = logging.getLogger(__name__)

#: Fields read by :meth:`TrytonClient.sale_find`.
SALE_FIELDS: Final[tuple[str, ...]] = (
    "id",
    "number",
    "reference",
    "state",
    "party",
    "sale_date",
    "total_amount",
    "lines",
)

SaleMatchField = Literal["number", "reference"]
Domain = Sequence[Any]
Context = Mapping[str, Any]


# --------------------------------------------------------------------------
# Exceptions
# --------------------------------------------------------------------------


class TrytonError(Exception):
    """Base class of every error raised by this module.

    ``method`` is the RPC method that failed (when known), ``status_code`` the
    HTTP status (when there was a response) and ``data`` the raw ``error``
    member of the JSON-RPC response (when there was one).
    """

    def __init__(
        self,
        message: str,
        *,
        method: str | None = None,
        status_code: int | None = None,
        data: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.status_code = status_code
        self.data = data


class TrytonUserError(TrytonError):
    """Tryton refused the request (``UserError`` / ``UserWarning``).

    ``message`` is Tryton's own text, ``description`` its optional detail.
    Not transient: the same request will be refused again.
    """

    def __init__(
        self,
        message: str,
        description: str = "",
        *,
        method: str | None = None,
        status_code: int | None = None,
        data: Any = None,
    ) -> None:
        super().__init__(message, method=method, status_code=status_code, data=data)
        self.description = description


class TrytonAuthError(TrytonError):
    """The log-on was refused (wrong login or password, or a refused session)."""


class TrytonUnavailable(TrytonError):
    """Tryton cannot be reached or is overloaded: a transient condition.

    Raised for refused connections, timeouts, HTTP 5xx, HTTP 429 (rate limit)
    and responses that are not Tryton JSON-RPC at all (a proxy error page).
    """


class TrytonLookupError(TrytonError):
    """A lookup that must find at most one record found several."""


# --------------------------------------------------------------------------
# JSON encoding of Tryton's tagged values
# --------------------------------------------------------------------------


def _encode_default(obj: Any) -> Any:
    # datetime is a subclass of date: test it first.
    if isinstance(obj, datetime.datetime):
        return {
            "__class__": "datetime",
            "year": obj.year,
            "month": obj.month,
            "day": obj.day,
            "hour": obj.hour,
            "minute": obj.minute,
            "second": obj.second,
            "microsecond": obj.microsecond,
        }
    if isinstance(obj, datetime.date):
        return {"__class__": "date", "year": obj.year, "month": obj.month, "day": obj.day}
    if isinstance(obj, datetime.time):
        return {
            "__class__": "time",
            "hour": obj.hour,
            "minute": obj.minute,
            "second": obj.second,
            "microsecond": obj.microsecond,
        }
    if isinstance(obj, datetime.timedelta):
        return {"__class__": "timedelta", "seconds": obj.total_seconds()}
    if isinstance(obj, Decimal):
        return {"__class__": "Decimal", "decimal": str(obj)}
    if isinstance(obj, bytes | bytearray | memoryview):
        return {"__class__": "bytes", "base64": base64.b64encode(bytes(obj)).decode("ascii")}
    if isinstance(obj, set | frozenset):
        return list(obj)
    if isinstance(obj, Mapping):
        return dict(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable for Tryton")


def _decode_object(dct: dict[str, Any]) -> Any:
    kind = dct.get("__class__")
    if kind is None:
        return dct
    try:
        if kind == "Decimal":
            return Decimal(dct["decimal"])
        if kind == "date":
            return datetime.date(dct["year"], dct["month"], dct["day"])
        if kind == "datetime":
            return datetime.datetime(  # noqa: DTZ001 - Tryton's JSON-RPC datetimes are naive UTC
                dct["year"],
                dct["month"],
                dct["day"],
                dct.get("hour", 0),
                dct.get("minute", 0),
                dct.get("second", 0),
                dct.get("microsecond", 0),
            )
        if kind == "time":
            return datetime.time(dct["hour"], dct["minute"], dct["second"], dct.get("microsecond", 0))
        if kind == "timedelta":
            return datetime.timedelta(seconds=dct["seconds"])
        if kind == "bytes":
            return base64.b64decode(dct["base64"])
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise ValueError(f"malformed Tryton {kind!r} value: {dct!r}") from exc
    return dct


def encode_json(obj: Any) -> str:
    """Serialise ``obj`` to JSON the way trytond expects it."""
    return json.dumps(obj, default=_encode_default, separators=(",", ":"))


def decode_json(text: str | bytes) -> Any:
    """Parse a trytond JSON document, converting its tagged values."""
    return json.loads(text, object_hook=_decode_object)


# --------------------------------------------------------------------------
# Process-wide session cache
# --------------------------------------------------------------------------

_CacheKey = tuple[str, str, str]


@dataclass(frozen=True)
class _Session:
    user_id: int
    token: str
    password_digest: bytes

    def authorization(self, login: str) -> str:
        raw = f"{login}:{self.user_id}:{self.token}".encode()
        return "Session " + base64.b64encode(raw).decode("ascii")


_cache_lock = threading.Lock()
_sessions: dict[_CacheKey, _Session] = {}
_login_locks: dict[_CacheKey, threading.Lock] = {}


def _login_lock(key: _CacheKey) -> threading.Lock:
    with _cache_lock:
        lock = _login_locks.get(key)
        if lock is None:
            lock = _login_locks[key] = threading.Lock()
        return lock


def _cached_session(key: _CacheKey, password_digest: bytes) -> _Session | None:
    with _cache_lock:
        session = _sessions.get(key)
    if session is not None and hmac.compare_digest(session.password_digest, password_digest):
        return session
    return None


def _store_session(key: _CacheKey, session: _Session) -> None:
    with _cache_lock:
        _sessions[key] = session


def _discard_session(key: _CacheKey, session: _Session | None) -> None:
    """Forget ``session`` (only if it is still the cached one)."""
    with _cache_lock:
        if session is None or _sessions.get(key) is session:
            _sessions.pop(key, None)


def clear_session_cache() -> None:
    """Forget every cached session of this process (mainly for tests)."""
    with _cache_lock:
        _sessions.clear()


def _digest(password: str) -> bytes:
    return hashlib.sha256(password.encode("utf-8")).digest()


# --------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------

#: A no-op httpx auth: requests keep the Authorization header the client sets.
_SESSION_ONLY: Final = httpx.Auth()


class TrytonClient:
    """JSON-RPC client for one Tryton database and user.

    :param url: the server's base URL, e.g. ``http://127.0.0.1:8000``.
    :param database: the database name (the ``-d`` of ``trytond``).
    :param login: the user's login.
    :param password: the user's password (never logged).
    :param timeout: seconds allowed for each HTTP request.
    :param http_client: an existing :class:`httpx.Client` to use; the caller
        keeps ownership of it (it is not closed by :meth:`close`).
    :param language: language code sent at log-on (Tryton's messages use it).
    :param context: a base context merged under the context of every call
        (e.g. ``{"company": 1}`` when records are created).

    The client is safe to share between threads as long as the underlying
    :class:`httpx.Client` is (httpx's is).
    """

    def __init__(
        self,
        url: str,
        database: str,
        login: str,
        password: str,
        *,
        timeout: float = 10.0,
        http_client: httpx.Client | None = None,
        language: str = "en",
        context: Context | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        self.login_name = login
        self._password = password
        self._password_digest = _digest(password)
        self.timeout = timeout
        self.language = language
        self.base_context: dict[str, Any] = dict(context or {})
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else httpx.Client(timeout=timeout)
        self._session: _Session | None = None
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"TrytonClient(url={self.url!r}, database={self.database!r}, login={self.login_name!r})"

    # -- lifecycle ---------------------------------------------------------

    @property
    def rpc_url(self) -> str:
        """The JSON-RPC end point of the database."""
        return f"{self.url}/{self.database}/rpc/"

    @property
    def user_id(self) -> int | None:
        """The Tryton user id, once logged in."""
        return self._session.user_id if self._session else None

    @property
    def _cache_key(self) -> _CacheKey:
        return (self.url, self.database, self.login_name)

    def close(self) -> None:
        """Close the HTTP client if this instance created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> TrytonClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- authentication ----------------------------------------------------

    def login(self) -> int:
        """Log in (always a new session) and return the Tryton user id.

        The new session replaces the cached one for this connection.

        :raises TrytonAuthError: the login or password was refused.
        :raises TrytonUnavailable: the server could not be reached.
        """
        key = self._cache_key
        with _login_lock(key):
            return self._login_locked().user_id

    def _login_locked(self) -> _Session:
        method = "common.db.login"
        params = [self.login_name, {"password": self._password}, self.language]
        response = self._post(method, params, authorization=None)
        status = response.status_code
        if status in (401, 403):
            # The credentials are wrong now: a session cached under them (another client's) is not trusted.
            _discard_session(self._cache_key, None)
            self._session = None
            raise TrytonAuthError(
                f"Tryton refused the log-on of {self.login_name!r} on database {self.database!r}",
                method=method,
                status_code=status,
            )
        if status == 404:
            raise TrytonError(
                f"Tryton database {self.database!r} not found at {self.url}", method=method, status_code=status
            )
        result = self._result(method, response)
        try:
            user_id, token = int(result[0]), str(result[1])
        except (TypeError, ValueError, IndexError, KeyError) as exc:
            raise TrytonError(f"unexpected log-on answer from Tryton: {result!r}", method=method) from exc
        session = _Session(user_id=user_id, token=token, password_digest=self._password_digest)
        self._session = session
        _store_session(self._cache_key, session)
        logger.info("logged in to Tryton %s/%s as %r (user %s)", self.url, self.database, self.login_name, user_id)
        return session

    def _ensure_session(self) -> _Session:
        if self._session is not None:
            return self._session
        key = self._cache_key
        session = _cached_session(key, self._password_digest)
        if session is None:
            with _login_lock(key):
                # Another thread may have logged in while we waited.
                session = _cached_session(key, self._password_digest)
                if session is None:
                    session = self._login_locked()
        self._session = session
        return session

    def _renew_session(self, stale: _Session) -> _Session:
        key = self._cache_key
        with _login_lock(key):
            _discard_session(key, stale)
            session = _cached_session(key, self._password_digest)
            if session is None or session is stale:
                session = self._login_locked()
        self._session = session
        return session

    def logout(self) -> None:
        """End the session on the server and forget it locally.

        Other clients that share the session (same process, same connection)
        will log in again on their next call.
        """
        session = self._session or _cached_session(self._cache_key, self._password_digest)
        self._session = None
        if session is None:
            return
        _discard_session(self._cache_key, session)
        try:
            response = self._post("common.db.logout", [], authorization=session.authorization(self.login_name))
        except TrytonUnavailable:
            return
        if response.status_code == 200:
            self._result("common.db.logout", response)

    # -- calls -------------------------------------------------------------

    def call(self, method: str, *args: Any, context: Context | None = None, timeout: float | None = None) -> Any:
        """Call ``method`` with ``args`` and return its decoded result.

        The context (the client's base context updated with ``context``) is
        appended as the last parameter.  Logs in when needed, and once more
        when the server answers HTTP 401 (expired or unknown session).

        :param timeout: overrides the client's timeout for this call.
        :raises TrytonUserError: Tryton refused the request.
        :raises TrytonUnavailable: transient failure (network, 5xx, 429).
        :raises TrytonAuthError: the credentials were refused.
        :raises TrytonError: any other error.
        """
        params: list[Any] = [*args, {**self.base_context, **(context or {})}]
        session = self._ensure_session()
        response = self._post(method, params, authorization=session.authorization(self.login_name), timeout=timeout)
        if response.status_code == 401:
            logger.info(
                "Tryton session expired for %r on %s/%s; logging in again", self.login_name, self.url, self.database
            )
            session = self._renew_session(session)
            response = self._post(method, params, authorization=session.authorization(self.login_name), timeout=timeout)
            if response.status_code == 401:
                raise TrytonAuthError(f"Tryton refused a fresh session for {method}", method=method, status_code=401)
        return self._result(method, response)

    def _post(
        self, method: str, params: list[Any], *, authorization: str | None, timeout: float | None = None
    ) -> httpx.Response:
        body = encode_json({"id": next(self._ids), "method": method, "params": params})
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        try:
            return self._http.post(
                self.rpc_url,
                content=body.encode("utf-8"),
                headers=headers,
                # The session header is the credential: a shared client's default auth (e.g. Basic) must
                # not replace it, or Tryton checks the password on every call and the session is unused.
                auth=_SESSION_ONLY,
                timeout=self.timeout if timeout is None else timeout,
            )
        except httpx.TimeoutException as exc:
            raise TrytonUnavailable(f"Tryton did not answer {method} in time: {exc}", method=method) from exc
        except httpx.TransportError as exc:
            raise TrytonUnavailable(f"cannot reach Tryton at {self.url}: {exc}", method=method) from exc

    def _result(self, method: str, response: httpx.Response) -> Any:
        status = response.status_code
        if status >= 500 or status == 429:
            raise TrytonUnavailable(f"Tryton answered HTTP {status} to {method}", method=method, status_code=status)
        if status == 401:
            raise TrytonAuthError(f"Tryton answered HTTP 401 to {method}", method=method, status_code=status)
        if status != 200:
            detail = response.text.strip()[:200] if "json" in response.headers.get("content-type", "") else ""
            raise TrytonError(
                f"Tryton answered HTTP {status} to {method}" + (f": {detail}" if detail else ""),
                method=method,
                status_code=status,
            )
        try:
            payload = decode_json(response.content)
        except ValueError as exc:
            raise TrytonUnavailable(
                f"Tryton answered {method} with something that is not JSON", method=method, status_code=status
            ) from exc
        if not isinstance(payload, dict):
            raise TrytonError(f"unexpected JSON-RPC answer to {method}", method=method, status_code=status)
        if payload.get("error") is not None:
            raise _error_from_payload(method, payload["error"], status)
        return payload.get("result")

    # -- sale helpers (used by the Tryton order processors) ----------------

    def sales_search(
        self,
        domain: Domain,
        fields: Iterable[str] = SALE_FIELDS,
        offset: int = 0,
        limit: int | None = None,
        order: Sequence[tuple[str, str]] | None = None,
    ) -> list[dict[str, Any]]:
        """``search_read`` on ``sale.sale``.

        :param domain: a Tryton domain, e.g. ``[("state", "=", "done")]``.
        :param order: e.g. ``[("id", "ASC")]``; ``None`` for the model's order.
        """
        order_param = [list(item) for item in order] if order is not None else None
        result = self.call("model.sale.sale.search_read", list(domain), offset, limit, order_param, list(fields))
        return list(result or [])

    def sales_read(self, ids: Iterable[int], fields: Iterable[str] = SALE_FIELDS) -> list[dict[str, Any]]:
        """Read ``fields`` of the sales ``ids``.

        :raises TrytonUserError: one of the ids does not exist.
        """
        return list(self.call("model.sale.sale.read", list(ids), list(fields)) or [])

    def sale_find(self, field: SaleMatchField, value: str) -> dict[str, Any] | None:
        """Find the sale whose ``field`` (``number`` or ``reference``) is ``value``.

        Returns the sale's :data:`SALE_FIELDS` or ``None`` when no sale
        matches.  Cancelled sales are found too (check ``state``).

        :raises TrytonLookupError: several sales match (a ``reference`` is not
            unique in Tryton).
        """
        if field not in ("number", "reference"):
            raise ValueError(f"a sale is matched by 'number' or 'reference', not {field!r}")
        found = self.sales_search([(field, "=", value)], SALE_FIELDS, 0, 2, [("id", "ASC")])
        if not found:
            return None
        if len(found) > 1:
            raise TrytonLookupError(
                f"several Tryton sales have {field} {value!r}", method="model.sale.sale.search_read"
            )
        return found[0]

    def sale_cancel(self, sale_id: int) -> None:
        """Cancel the sale (Tryton allows it from ``draft`` and ``quotation``).

        :raises TrytonUserError: the sale is ``confirmed``, ``processing``,
            ``done`` or already ``cancelled``; Tryton's message reads
            ``You can not call "cancel" on "<number> [<reference>]" of "Sale".``
        """
        self.call("model.sale.sale.cancel", [sale_id])

    def sale_draft(self, sale_id: int) -> None:
        """Move the sale back to ``draft`` (from ``quotation``, ``confirmed`` or ``cancelled``).

        :raises TrytonUserError: the sale is ``processing`` or ``done``.
        """
        self.call("model.sale.sale.draft", [sale_id])


def _error_from_payload(method: str, error: Any, status: int) -> TrytonError:
    """Build the exception for a JSON-RPC ``error`` member."""
    if isinstance(error, list | tuple) and error:
        kind = error[0]
        args = error[1] if len(error) > 1 else None
        arg_list = list(args) if isinstance(args, list | tuple) else [args]
        if kind == "UserError":
            message = str(arg_list[0]) if arg_list and arg_list[0] is not None else "Tryton refused the request"
            description = str(arg_list[1]) if len(arg_list) > 1 and arg_list[1] else ""
            return TrytonUserError(message, description, method=method, status_code=status, data=error)
        if kind == "UserWarning":
            message = str(arg_list[1]) if len(arg_list) > 1 else str(arg_list[0] if arg_list else "")
            description = str(arg_list[2]) if len(arg_list) > 2 and arg_list[2] else ""
            return TrytonUserError(message, description, method=method, status_code=status, data=error)
        if kind == "LoginException":
            return TrytonAuthError(
                f"Tryton asks for a log-on again: {arg_list!r}", method=method, status_code=status, data=error
            )
        if kind == "ConcurrencyException":
            message = str(arg_list[0]) if arg_list else "concurrent modification"
            return TrytonUnavailable(message, method=method, status_code=status, data=error)
        # An unexpected server exception: [str(exception), traceback].
        return TrytonError(f"Tryton error in {method}: {kind}", method=method, status_code=status, data=error)
    return TrytonError(f"Tryton error in {method}: {error!r}", method=method, status_code=status, data=error)
