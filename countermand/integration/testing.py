"""Helpers for testing processors (Countermand's own connectors and third-party plugins alike).

- `ListLogger`: a job logger that keeps its lines, for assertions.
- `processor_context`: the context the worker would give a job definition's processor, for a job queued
  now — to call `execute` directly.
- `run_due_jobs`: claim and run every due job in this process, as `countermand worker --burst` does.
- `FakeHttpErp`: a real HTTP server on 127.0.0.1 in a thread; subclass it and implement `handle`.
- `installed_processor` / `installed_connection_type`: what the registry found (is the entry point right?).

Use them inside a Django test with database access (pytest-django's ``db`` fixture or
``@pytest.mark.django_db``); the processor under test must be installed (its entry point registered).
"""

from __future__ import annotations

import abc
import datetime
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from django.utils import timezone

from countermand.integration.plugin import ConnectionType, Processor, ProcessorContext

if TYPE_CHECKING:
    from countermand.integration import queue
    from countermand.integration.models import JobDefinition

__all__ = [
    "FakeHttpErp",
    "FakeRequest",
    "ListLogger",
    "installed_connection_type",
    "installed_processor",
    "processor_context",
    "run_due_jobs",
]


def installed_processor(name: str) -> type[Processor]:
    """The installed processor of this name (raises ValidationFailed when there is none)."""
    from countermand.integration.registry import processor_get

    return processor_get(name)


def installed_connection_type(name: str) -> ConnectionType:
    """The installed connection type of this name (raises ValidationFailed when there is none)."""
    from countermand.integration.registry import connection_type_get

    return connection_type_get(name)


class ListLogger:
    """A job logger that keeps (level, message) pairs."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def debug(self, message: str) -> None:
        self.lines.append(("Debug", message))

    def info(self, message: str) -> None:
        self.lines.append(("Info", message))

    def warn(self, message: str) -> None:
        self.lines.append(("Warn", message))

    def error(self, message: str) -> None:
        self.lines.append(("Error", message))

    def fatal(self, message: str) -> None:
        self.lines.append(("Fatal", message))

    def messages(self, level: str) -> list[str]:
        """The messages logged at `level` ("Debug", "Info", "Warn", "Error" or "Fatal")."""
        return [message for lvl, message in self.lines if lvl == level]


def processor_context(
    definition: JobDefinition,
    *,
    order: Any = None,
    parameters: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    timeout_seconds: float = 60,
) -> ProcessorContext:
    """The context the worker gives the definition's processors, for a job queued now (not run).

    `order`: an order row (its read-only `OrderView` is built as the worker builds it); `parameters`: the
    job's raw parameter values (typed by the definition's parameter types, defaults filled in); `data`:
    what the pipeline carries, e.g. ``{"reason": …, "note": …}`` of a cancellation. The logger is a
    `ListLogger`; the connection is the definition's, with its shared HTTP client."""
    from countermand.integration.http import connection_info
    from countermand.integration.runner import job_view, order_view, typed_parameters
    from countermand.integration.services import job_enqueue

    job = job_enqueue(definition=definition, order=order, parameters=parameters or {})
    return ProcessorContext(
        job=job_view(job, attempt=1),
        parameters=typed_parameters(job),
        logger=ListLogger(),
        deadline=timezone.now() + datetime.timedelta(seconds=timeout_seconds),
        connection=connection_info(definition.connection) if definition.connection is not None else None,
        order=order_view(job),
        data=dict(data or {}),
    )


def run_due_jobs(worker_id: str = "tests", *, rounds: int = 50) -> list[queue.Finish]:
    """Claim and run every due job in this thread (claim → pipeline → fenced finish) until none is due;
    returns what each attempt recorded. A job retried with no backoff runs again in the same call."""
    from countermand.integration import queue
    from countermand.integration.runner import attempt_execute

    finished = []
    for _ in range(rounds):
        claims = queue.claim_jobs(worker_id=worker_id, limit=10, lease_seconds=30)
        if not claims:
            break
        finished += [attempt_execute(claim, worker_id=worker_id) for claim in claims]
    return finished


@dataclass
class FakeRequest:
    """A request the fake ERP received. Header names are lower case; `body` is the parsed JSON (None
    without a body, the raw text when it is not JSON)."""

    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


class FakeHttpErp(abc.ABC):
    """A real HTTP server on 127.0.0.1 (a free port) answering in a thread, for processors that call an
    ERP over HTTP. Subclass it and implement `handle`; every request is kept in `requests`.

        class FakeAcme(FakeHttpErp):
            def handle(self, request):
                if request.method == "POST" and request.path.endswith("/cancel"):
                    return 200, {"status": "CANCELLED"}
                return 404, {"error": "not found"}

        with FakeAcme() as erp:
            ...  # connection URL = erp.url
            assert erp.requests[0].headers["idempotency-key"]

    `handle` runs in the server's threads: guard shared state with `self.lock`.
    """

    prefix = ""  # path prefix included in `url`, e.g. "/erp"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.requests: list[FakeRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @abc.abstractmethod
    def handle(self, request: FakeRequest) -> tuple[int, Any]:
        """Answer `request`: an HTTP status and a JSON-serialisable body (a str is sent as text)."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    def start(self) -> FakeHttpErp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _answer(self, request: FakeRequest) -> tuple[int, Any]:
        with self.lock:
            self.requests.append(request)
        return self.handle(request)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        erp = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle's algorithm the body waits for the client's
            # delayed ACK of the headers (~40 ms on Linux) on every call of a kept-alive connection.
            disable_nagle_algorithm = True

            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body: Any = None
                if raw:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        body = raw.decode("utf-8", "replace")
                url = urlsplit(self.path)
                request = FakeRequest(
                    method=self.command,
                    path=url.path,
                    query=dict(parse_qsl(url.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                status, answer = erp._answer(request)
                is_text = isinstance(answer, str)
                data = answer.encode() if is_text else json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain" if is_text else "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up meanwhile

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return Handler
