"""A real HTTP ERP on 127.0.0.1 for the engine's tests: honours Idempotency-Key and counts, per key and per
order, how often a cancellation was delivered and how often it took effect.

`POST /erp/orders/<number>/cancel`: 200 `{"status": "Cancelled", "reference": …}`, or 409
`{"message": …}` for orders in `refuse`. Behaviour switches: `fail_status` (answer every call with it,
no effect), `delay` (seconds before answering), `delay_first_delivery` / `slow_first` (only the first
delivery of each key — of every order, or of the given orders — is slow). It records the most requests
it had in flight at once.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeErp:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deliveries: Counter[str] = Counter()  # per idempotency key
        self.effects: Counter[str] = Counter()  # per idempotency key
        self.order_effects: Counter[str] = Counter()  # per order number
        self.answers: dict[str, tuple[int, dict]] = {}
        self.refuse: dict[str, str] = {}
        self.fail_status = 0
        self.failed_calls = 0
        self.delay = 0.0
        self.delay_first_delivery = 0.0
        self.slow_first: dict[str, float] = {}  # order number → delay of the first delivery of each key
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls: list[tuple[float, str, int]] = []  # (time, key, status)
        self.headers: list[dict[str, str]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/erp"

    def start(self) -> FakeErp:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, order_number: str, key: str) -> tuple[int, dict]:
        with self.lock:
            self.deliveries[key] += 1
            first = self.deliveries[key] == 1
            fail = self.fail_status
        delay = self.delay
        if first:
            delay += self.delay_first_delivery + self.slow_first.get(order_number, 0.0)
        if delay:
            time.sleep(delay)
        with self.lock:
            if fail:
                self.failed_calls += 1
                self.calls.append((time.monotonic(), key, fail))
                return fail, {"message": f"ERP unavailable ({fail})"}
            if key not in self.answers:
                if order_number in self.refuse:
                    self.answers[key] = (409, {"message": self.refuse[order_number]})
                else:
                    self.effects[key] += 1
                    self.order_effects[order_number] += 1
                    reference = f"FAKE-{len(self.effects):05d}"
                    self.answers[key] = (200, {"status": "Cancelled", "reference": reference, "message": "done"})
            status, body = self.answers[key]
            self.calls.append((time.monotonic(), key, status))
            return status, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        erp = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = self.path.strip("/").split("/")
                key = self.headers.get("Idempotency-Key", "")
                with erp.lock:
                    erp.in_flight += 1
                    erp.max_in_flight = max(erp.max_in_flight, erp.in_flight)
                    erp.headers.append(dict(self.headers.items()))
                try:
                    if len(parts) != 4 or parts[:2] != ["erp", "orders"] or parts[3] != "cancel" or not key:
                        status, answer = 400, {"message": f"bad request {self.path} key={key!r} {body[:100]!r}"}
                    else:
                        status, answer = erp.answer(parts[2], key)
                finally:
                    with erp.lock:
                        erp.in_flight -= 1
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the worker that asked was killed meanwhile

        return Handler
