"""A fake Acme ERP for tests: a real HTTP server on 127.0.0.1 that speaks the part of Acme's API the
processor uses, remembers the answer given to each Idempotency-Key, and counts effects per order.

    with FakeAcmeErp(api_key="k") as acme:
        acme.orders["E1001"] = "OPEN"          # OPEN, SHIPPED or CANCELLED
        acme.fail_next = [503]                 # answer the next call(s) with these statuses
        ...  # connection URL = acme.url
        assert acme.orders["E1001"] == "CANCELLED" and acme.effects["E1001"] == 1

Built on Countermand's `FakeHttpErp`: only Acme's answers are here.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from countermand.integration.testing import FakeHttpErp, FakeRequest

CANCEL_PATH = re.compile(r"^/acme/companies/(?P<company>[^/]+)/sales-orders/(?P<number>[^/]+)/cancel$")


class FakeAcmeErp(FakeHttpErp):
    prefix = "/acme"

    def __init__(self, api_key: str = "acme-key", company: str = "ACME-US") -> None:
        super().__init__()
        self.api_key = api_key
        self.company = company
        self.orders: dict[str, str] = {}
        self.effects: Counter[str] = Counter()
        self.fail_next: list[int] = []
        self._answers: dict[str, tuple[int, dict[str, Any]]] = {}

    def __enter__(self) -> FakeAcmeErp:
        self.start()
        return self

    def handle(self, request: FakeRequest) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if self.fail_next:
                return self.fail_next.pop(0), {"error": {"code": "UNAVAILABLE", "message": "try again later"}}
            if request.headers.get("x-api-key") != self.api_key:
                return 401, {"error": {"code": "BAD_API_KEY", "message": "unknown API key"}}
            match = CANCEL_PATH.match(request.path)
            if request.method != "POST" or match is None or match["company"] != self.company:
                return 404, {"error": {"code": "NOT_FOUND", "message": f"no such resource {request.path}"}}
            key = request.headers.get("idempotency-key", "")
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
