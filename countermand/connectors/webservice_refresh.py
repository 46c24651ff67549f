"""Order history refresh from an ERP with an HTTP JSON API (`WebService` connection).

The ERP serves its orders at the connection's URL + `refreshPath` (default `/orders`):

- `GET /orders?modifiedSince=<ISO 8601>&page=1&pageSize=100` — orders changed since then (on the first
  run `orderedSince=<YYYY-MM-DD>` instead of `modifiedSince`), a page at a time; a page shorter than
  `pageSize` is the last one.
- `GET /orders?orderNumbers=E1,W2,…` — the current state of these orders (ERP order number, else web
  order number — the same `OrderNumber` the cancel job sends).

Both answer `{"orders": [order, …]}` (or a bare list), an order in the field names of the admin import
API — one table, `plugin.ORDER_JSON_FIELDS` / `ORDER_LINE_JSON_FIELDS`, shown in docs/api.md:

    {"webOrderNumber": "W1001", "erpOrderNumber": "E5001", "customerNumber": "C1000",
     "orderDate": "2025-01-31", "status": "Shipped", "cancelled": false, "customerPO": "PO-7",
     "currencyCode": "USD", "productTotal": "90.00", "taxAmount": "10.00", "shippingCharges": "0",
     "orderTotal": "100.00",
     "orderLines": [{"lineNumber": 1, "productErpNumber": "WID-1", "description": "Widget",
                     "qtyOrdered": 2, "qtyShipped": 2, "unitNetPrice": "45.00",
                     "lineTotal": "90.00", "status": "Shipped"}]}

`webOrderNumber`, `customerNumber` and `status` are required; `orderLines` may be left out (lines are then
left as they are). An order is cancelled when `cancelled` is true or its status equals the
`CancelledStatus` setting (ignoring case); it then takes the CancelledStatus. The names this refresh took
before the table (`currency`, `subtotal`, `shippingAmount`, `total`; lines `productNumber`,
`quantityOrdered`, `quantityShipped`, `unitPrice`) are still read when the table's name is absent. Any
other field is ignored with one warning per run naming it and the accepted names — never silently.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any, Protocol

import httpx

from countermand.integration.plugin import (
    ERP_DECIMAL_FIELDS,
    ORDER_JSON_FIELDS,
    ORDER_LINE_JSON_FIELDS,
    ConfigurationError,
    ConnectionInfo,
    ErpOrder,
    ErpOrderLine,
    JobLogger,
    OrderKey,
    TransientError,
    chunks,
)

DEFAULT_REFRESH_PATH = "/orders"
NUMBERS_PER_REQUEST = 50
KEY_FIELDS = ("webOrderNumber", "erpOrderNumber", "customerNumber", "status", "orderLines")
# The value fields of the one field table (the keys above are read on their own).
ORDER_FIELDS = {theirs: ours for theirs, ours in ORDER_JSON_FIELDS.items() if theirs not in KEY_FIELDS}
LINE_FIELDS = dict(ORDER_LINE_JSON_FIELDS)
# Names this refresh documented before the one table, still read: table name → older name.
OLDER_ORDER_NAMES = {
    "currencyCode": "currency",
    "productTotal": "subtotal",
    "shippingCharges": "shippingAmount",
    "orderTotal": "total",
}
OLDER_LINE_NAMES = {
    "productErpNumber": "productNumber",
    "qtyOrdered": "quantityOrdered",
    "qtyShipped": "quantityShipped",
    "unitNetPrice": "unitPrice",
}
REFRESH_ONLY_FIELDS = ("cancelled",)
ACCEPTED_ORDER_NAMES = frozenset(ORDER_JSON_FIELDS) | set(REFRESH_ONLY_FIELDS) | set(OLDER_ORDER_NAMES.values())
ACCEPTED_LINE_NAMES = frozenset(ORDER_LINE_JSON_FIELDS) | set(OLDER_LINE_NAMES.values())


def webservice_order_source(
    connection: ConnectionInfo, cancelled_status: str, logger: JobLogger
) -> WebServiceOrderSource:
    """`ConnectionType.order_source` of the WebService type."""
    return WebServiceOrderSource(connection, cancelled_status=cancelled_status, logger=logger)


class WebServiceOrderSource:
    """Reads orders from an HTTP JSON ERP for the order history refresh (see `plugin.OrderSource`)."""

    final_statuses: frozenset[str] = frozenset()  # unknown for a generic ERP: every recent order is swept

    def __init__(self, connection: ConnectionInfo, *, cancelled_status: str, logger: JobLogger) -> None:
        if connection.http is None:
            raise RuntimeError(f"The connection {connection.name} has no HTTP client.")
        self.http = connection.http
        self.timeout = float(connection.timeout_seconds)
        path = str(connection.options.get("refreshPath", DEFAULT_REFRESH_PATH))
        self.url = connection.url.rstrip("/") + "/" + path.lstrip("/")
        self.headers = dict(connection.options.get("headers", {}))
        self.cancelled_status = cancelled_status
        self.cancelled_statuses = frozenset({cancelled_status})
        self.label = f"the ERP at {self.url}"
        self.logger = logger
        self.unknown_reported: set[str] = set()

    def changed_orders(
        self,
        *,
        customer_numbers: Sequence[str],
        since: datetime.datetime | None,
        created_after: datetime.datetime | None,
        batch_size: int,
    ) -> Iterator[list[ErpOrder]]:
        params: dict[str, Any] = {"pageSize": batch_size}
        if since is not None:
            params["modifiedSince"] = since.isoformat()
        elif created_after is not None:
            params["orderedSince"] = created_after.date().isoformat()
        page = 1
        while True:
            orders = self._get({**params, "page": page})
            if orders:
                yield self._orders(orders)
            if len(orders) < batch_size:
                return
            page += 1

    def orders_for(self, orders: Sequence[OrderKey]) -> list[ErpOrder]:
        found: list[ErpOrder] = []
        for batch in chunks(orders, NUMBERS_PER_REQUEST):
            answer = self._get({"orderNumbers": ",".join(o.erp_or_web_number for o in batch)})
            found += self._orders(answer)
        return found

    def _get(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return erp_list_get(self, params, key="orders", path_option="refreshPath")

    def _orders(self, answer: list[dict[str, Any]]) -> list[ErpOrder]:
        self._report_unknown(answer)
        orders = []
        for data in answer:
            try:
                orders.append(self._order(data))
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                self.logger.warn(f"Skipped an order {self.label} sent: {exc} in {str(data)[:300]}")
        return orders

    def _report_unknown(self, answer: list[dict[str, Any]]) -> None:
        """Warn once per run about field names the table does not know: their values are not stored."""
        unknown = {f"{name}" for data in answer for name in data if name not in ACCEPTED_ORDER_NAMES}
        unknown |= {
            f"orderLines[].{name}"
            for data in answer
            for line in (data.get("orderLines") or [])
            if isinstance(line, dict)
            for name in line
            if name not in ACCEPTED_LINE_NAMES
        }
        new = sorted(unknown - self.unknown_reported)
        if new:
            self.unknown_reported |= set(new)
            self.logger.warn(
                f"{self.label} sent field(s) {', '.join(new)} that are not order fields: ignored. Accepted: "
                f"{', '.join(ORDER_JSON_FIELDS)}, cancelled; lines: {', '.join(ORDER_LINE_JSON_FIELDS)} "
                "(see docs/api.md)."
            )

    def _order(self, data: dict[str, Any]) -> ErpOrder:
        missing = [k for k in ("webOrderNumber", "customerNumber", "status") if not data.get(k)]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        status = str(data["status"])
        cancelled = bool(data.get("cancelled")) or status.casefold() == self.cancelled_status.casefold()
        lines = data.get("orderLines")
        return ErpOrder(
            web_order_number=str(data["webOrderNumber"]),
            erp_order_number=str(data["erpOrderNumber"]) if data.get("erpOrderNumber") else None,
            customer_number=str(data["customerNumber"]),
            status=self.cancelled_status if cancelled else status,
            erp_state=status,
            cancelled=cancelled,
            **_typed(data, ORDER_FIELDS, OLDER_ORDER_NAMES),
            lines=None if lines is None else tuple(_line(line) for line in lines),
        )


def _line(data: dict[str, Any]) -> ErpOrderLine:
    values = _typed(data, LINE_FIELDS, OLDER_LINE_NAMES)
    if "line_number" not in values:
        raise ValueError("missing lineNumber")
    return ErpOrderLine(**values)


def _typed(data: dict[str, Any], names: dict[str, str], older: dict[str, str]) -> dict[str, Any]:
    """The ERP's JSON fields under our names and in our types, so that unchanged orders compare equal
    (a field under its older name when the table's name is absent)."""
    typed = {}
    for theirs, name in names.items():
        value = data.get(theirs)
        if value is None and theirs in older:
            value = data.get(older[theirs])
        if value is None or value == "":
            continue
        if name in ERP_DECIMAL_FIELDS:
            value = Decimal(str(value))
        elif name == "order_date":
            value = datetime.date.fromisoformat(str(value))
        elif name == "line_number":
            value = int(value)
        else:
            value = str(value)
        typed[name] = value
    return typed


class ErpListEndpoint(Protocol):
    """What `erp_list_get` needs of a source: its client, address, headers, timeout and how to name it."""

    http: httpx.Client
    url: str
    headers: dict[str, str]
    timeout: float
    label: str


def erp_list_get(
    source: ErpListEndpoint, params: dict[str, Any], *, key: str, path_option: str
) -> list[dict[str, Any]]:
    """One page of an ERP's JSON list (`{key: [...]}` or a bare list), shared by the order and the customer
    refresh so both meet the ERP's failures alike: no answer, 408, 429 or 5xx → TransientError (retried);
    401/403 → ConfigurationError (a refused log-on: never retried); any other error or a body that is not a
    list of objects → RuntimeError naming what to check (`path_option`)."""
    try:
        response = source.http.get(source.url, params=params, headers=source.headers, timeout=source.timeout)
    except httpx.TimeoutException as exc:
        raise TransientError(f"{source.label} did not answer within {source.timeout:.0f} s") from exc
    except httpx.TransportError as exc:
        raise TransientError(f"cannot reach {source.label}: {exc}") from exc
    if response.status_code in (408, 429) or response.status_code >= 500:
        raise TransientError(f"{source.label} answered HTTP {response.status_code}")
    if response.status_code in (401, 403):
        raise ConfigurationError.logon_refused(f"HTTP {response.status_code} from {source.label}")
    if not response.is_success:
        raise RuntimeError(
            f"{source.label} answered HTTP {response.status_code}: {response.text[:200]} — "
            f"check the connection's URL and {path_option}"
        )
    try:
        data = response.json()
    except ValueError as exc:
        raise RuntimeError(f"{source.label} answered with something that is not JSON") from exc
    rows = data.get(key) if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise RuntimeError(f'{source.label} answered without a list of {key} (expected {{"{key}": [...]}})')
    return rows
