"""The HTTP clients processors get with their connection: one pooled client per connection and process,
with the connection's timeout and credentials, timing every call for the ERP latency metric."""

from __future__ import annotations

import threading
import time

import httpx

from countermand.integration.metrics import ERP_LATENCY
from countermand.integration.models import IntegrationConnection
from countermand.integration.plugin import ConnectionInfo, Redactor


class TimedTransport(httpx.BaseTransport):
    """Records how long each call takes until its response headers arrive."""

    def __init__(self, connection_name: str, inner: httpx.BaseTransport) -> None:
        self.connection_name = connection_name
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = self.inner.handle_request(request)
        except httpx.TimeoutException:
            ERP_LATENCY.labels(self.connection_name, "timeout").observe(time.perf_counter() - started)
            raise
        except httpx.TransportError:
            ERP_LATENCY.labels(self.connection_name, "error").observe(time.perf_counter() - started)
            raise
        ERP_LATENCY.labels(self.connection_name, f"{response.status_code // 100}xx").observe(
            time.perf_counter() - started
        )
        return response

    def close(self) -> None:
        self.inner.close()


_clients: dict[tuple[int, str], httpx.Client] = {}
_lock = threading.Lock()


def http_client(connection: IntegrationConnection, password: str) -> httpx.Client:
    """The shared client of a connection (rebuilt when the connection was edited). Thread-safe."""
    key = (connection.pk, connection.updated_at.isoformat() if connection.updated_at else "")
    with _lock:
        client = _clients.get(key)
        if client is None:
            for old in [k for k in _clients if k[0] == connection.pk]:
                _clients.pop(old).close()
            client = httpx.Client(
                transport=TimedTransport(
                    connection.name,
                    httpx.HTTPTransport(limits=httpx.Limits(max_connections=100, max_keepalive_connections=20)),
                ),
                timeout=float(connection.timeout_seconds or 30),
                auth=httpx.BasicAuth(connection.log_on, password) if connection.log_on else None,
                headers={"User-Agent": "Countermand"},
            )
            _clients[key] = client
    return client


def connection_info(connection: IntegrationConnection) -> ConnectionInfo:
    """A connection as processors see it: decrypted password and a ready HTTP client."""
    password = connection.get_password() if connection.has_password else ""
    return ConnectionInfo(
        name=connection.name,
        type_name=connection.type_name,
        url=connection.url,
        log_on=connection.log_on,
        password=password,
        timeout_seconds=float(connection.timeout_seconds or 30),
        options=dict(connection.options or {}),
        http=http_client(connection, password),
    )


def connection_redactor(connection: IntegrationConnection | None) -> Redactor:
    """What takes the connection's password, its base64 forms and Authorization values out of a job's log, error
    and result (`plugin.Redactor`); with no connection, or one whose password cannot be read, Authorization
    values only."""
    if connection is None or not connection.has_password:
        return Redactor()
    try:
        password = connection.get_password()
    except ValueError:  # encrypted with another key: connection_info reports it to the job
        return Redactor()
    return Redactor.for_credentials(connection.log_on, password)
