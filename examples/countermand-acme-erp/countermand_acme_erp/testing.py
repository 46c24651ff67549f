"""A fake Acme ERP for tests: a real HTTP server on 127.0.0.1 that speaks the part of Acme's API the
processor uses, remembers the answer given to each Idempotency-Key, and counts effects per order.

    with FakeAcmeErp(api_key="k") as acme:
        acme.orders["E1001"] = "OPEN"          # OPEN, SHIPPED or CANCELLED
        acme.fail_next = [503]                 # answer the next call(s) with these statuses
        ...  # connection URL = acme.url
        assert acme.orders["E1001"] == "CANCELLED" and acme.effects["E1001"] == 1
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CANCEL_PATH = re.compile(r"^/acme/companies/(?P<company>[^/]+)/sales-orders/(?P<number>[^/]+)/cancel$")


class FakeAcmeErp:
    def __init__(self, api_key: str = "acme-key", company: str = "ACME-US") -> None:
        self.api_key = api_key
        self.company = company
        self.orders: dict[str, str] = {}
        self.effects: Counter[str] = Counter()
        self.requests: list[dict[str, Any]] = []
        self.fail_next: list[int] = []
        self._answers: dict[str, tuple[int, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/acme"

    def start(self) -> FakeAcmeErp:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeAcmeErp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def answer(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "body": body})
            if self.fail_next:
                return self.fail_next.pop(0), {"error": {"code": "UNAVAILABLE", "message": "try again later"}}
            if headers.get("x-api-key") != self.api_key:
                return 401, {"error": {"code": "BAD_API_KEY", "message": "unknown API key"}}
            match = CANCEL_PATH.match(path)
            if match is None or match["company"] != self.company:
                return 404, {"error": {"code": "NOT_FOUND", "message": f"no such resource {path}"}}
            key = headers.get("idempotency-key", "")
            if key and key in self._answers:
                return self._answers[key]
            answer = self._cancel(match["number"])
            if key:
                self._answers[key] = answer
            return answer

    def _cancel(self, number: str) -> tuple[int, dict[str, Any]]:
        state = self.orders.get(number)
        if state is None:
            return 404, {"error": {"code": "ORDER_NOT_FOUND", "message": f"Sales order {number} does not exist."}}
        if state == "CANCELLED":
            return 409, {
                "error": {"code": "ALREADY_CANCELLED", "message": f"Sales order {number} is already cancelled."}
            }
        if state == "SHIPPED":
            return 409, {"error": {"code": "ORDER_SHIPPED", "message": f"Sales order {number} has shipped."}}
        self.orders[number] = "CANCELLED"
        self.effects[number] += 1
        return 200, {
            "orderNumber": number,
            "status": "CANCELLED",
            "cancellationId": f"CX-{sum(self.effects.values()):04d}",
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        erp = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = {}
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer = erp.answer(self.path, headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
