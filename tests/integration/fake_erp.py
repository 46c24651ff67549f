"""A real HTTP ERP on 127.0.0.1 for the engine's tests: honours Idempotency-Key and counts, per key and per
order, how often a cancellation was delivered and how often it took effect.

`POST /erp/orders/<number>/cancel`: 200 `{"status": "Cancelled", "reference": …}`, or 409
`{"message": …}` for orders in `refuse`. Behaviour switches: `fail_status` (answer every call with it,
no effect), `delay` (seconds before answering), `delay_first_delivery` / `slow_first` (only the first
delivery of each key — of every order, or of the given orders — is slow). It records the most requests
it had in flight at once. Built on the public `countermand.integration.testing.FakeHttpErp`.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from countermand.integration.testing import FakeHttpErp, FakeRequest


class FakeErp(FakeHttpErp):
    prefix = "/erp"

    def __init__(self) -> None:
        super().__init__()
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

    def handle(self, request: FakeRequest) -> tuple[int, Any]:
        parts = request.path.strip("/").split("/")
        key = request.headers.get("idempotency-key", "")
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if request.method != "POST" or len(parts) != 4 or parts[:2] != ["erp", "orders"] or parts[3] != "cancel":
                return 400, {"message": f"bad request {request.method} {request.path}"}
            if not key:
                return 400, {"message": f"no Idempotency-Key in {request.path} {str(request.body)[:100]}"}
            return self.answer(parts[2], key)
        finally:
            with self.lock:
                self.in_flight -= 1
