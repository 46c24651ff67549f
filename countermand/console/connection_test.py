"""*Test connection*: can Countermand reach this ERP with these settings?

A connection type may bring its own check (`ConnectionType.test`); otherwise the console makes one
plain HTTP GET to the connection's URL with its timeout and log-on. Never call this inside a database
transaction: it waits on the network.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from countermand.integration.http import connection_info, connection_redactor
from countermand.integration.models import IntegrationConnection
from countermand.integration.registry import registry
from countermand.integration.services import connection_configuration_error_clear


@dataclass(frozen=True)
class ConnectionTestResult:
    ok: bool
    message: str


def http_probe(connection: IntegrationConnection) -> str:
    """GET the connection's URL. Returns a success message; raises RuntimeError saying what went wrong."""
    if not connection.url:
        raise RuntimeError("the connection has no URL")
    try:
        password = connection.get_password() if connection.has_password else ""
    except ValueError as exc:
        raise RuntimeError(str(exc)) from exc
    auth = httpx.BasicAuth(connection.log_on, password) if connection.log_on else None
    timeout = float(connection.timeout_seconds or 30)
    started = time.perf_counter()
    try:
        response = httpx.get(
            connection.url, timeout=timeout, auth=auth, headers={"User-Agent": "Countermand connection test"}
        )
    except httpx.TimeoutException:
        raise RuntimeError(f"no answer from {connection.url} within {timeout:g} s (the connection's timeout)") from None
    except httpx.HTTPError as exc:
        raise RuntimeError(f"cannot reach {connection.url}: {exc}") from None
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code in (401, 403):
        raise RuntimeError(
            f"{connection.url} refused the log-on (HTTP {response.status_code}): check the log-on and password"
        )
    if response.status_code >= 500:
        raise RuntimeError(f"{connection.url} answered HTTP {response.status_code}: the ERP reports an error")
    return f"reached {connection.url} in {elapsed_ms:.0f} ms (HTTP {response.status_code})"


def connection_test(connection: IntegrationConnection) -> ConnectionTestResult:
    """Run the type's own test, or the plain HTTP probe; turn any failure into a message. A success clears
    the connection's configuration error (a refused log-on an attempt met): its jobs call the ERP again."""
    ctype = registry().connection_types.get(connection.type_name)
    try:
        if ctype is not None and ctype.test is not None:
            message = ctype.test(connection_info(connection))
        else:
            message = http_probe(connection)
    except Exception as exc:  # whatever went wrong is the answer the administrator asked for
        return ConnectionTestResult(False, connection_redactor(connection).redact(str(exc) or type(exc).__name__))
    if connection.pk:
        connection_configuration_error_clear(connection_id=connection.pk)
    return ConnectionTestResult(True, connection_redactor(connection).redact(message))
