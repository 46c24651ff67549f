"""Orders uploaded in the console (JSON or CSV): parsed here, validated and imported by the admin API's rules.

Each order goes through the API's `OrderImportSerializer` (the fields, their formats, the website and the
customer), then through the same service the ERP refresh uses, `order_import_many` (numbers already taken,
statuses an import may not set…). A preview runs the whole import in a transaction and rolls it back, so it
reports every error the real import would meet; the import itself commits only when no order has an error —
one bad row and nothing is saved.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from countermand.api.admin_serializers import OrderImportSerializer
from countermand.core.errors import DomainError
from countermand.orders.models import Order
from countermand.orders.services import OrderImport, order_import_many

MAX_ORDERS = 2000
MAX_BYTES = 2 * 1024 * 1024

# CSV: one row per order line; the order's columns repeat on each of its rows (the first row's count).
ORDER_COLUMNS = (
    "webOrderNumber",
    "websiteId",
    "customerNumber",
    "orderDate",
    "status",
    "erpOrderNumber",
    "customerPO",
    "currencyCode",
    "productTotal",
    "taxAmount",
    "shippingCharges",
    "orderTotal",
)
# The line's own status is `lineStatus` in a CSV (the order's is `status`); in JSON it is the API's `status`.
LINE_COLUMNS = {
    "lineNumber": "lineNumber",
    "productErpNumber": "productErpNumber",
    "description": "description",
    "qtyOrdered": "qtyOrdered",
    "qtyShipped": "qtyShipped",
    "unitNetPrice": "unitNetPrice",
    "lineTotal": "lineTotal",
    "lineStatus": "status",
}


class UploadInvalid(ValueError):
    """The file cannot be read as orders at all (not JSON, not CSV, unknown columns, too big)."""


@dataclass
class UploadedOrder:
    """One order of the file, as the API would receive it, and where it came from ("Row 2", "Order 1")."""

    where: str
    data: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    website_name: str = ""  # once its websiteId is found

    @property
    def number(self) -> str:
        return str(self.data.get("webOrderNumber", ""))

    @property
    def line_count(self) -> int:
        lines = self.data.get("orderLines")
        return len(lines) if isinstance(lines, list) else 0


@dataclass
class ImportResult:
    orders: list[UploadedOrder]
    saved: bool = False

    @property
    def error_count(self) -> int:
        return sum(1 for o in self.orders if o.errors)


def orders_parse(content: bytes | str, *, filename: str = "") -> list[UploadedOrder]:
    """The orders of an uploaded file: JSON (a list of orders, or {"orders": [...]}) or CSV (one row per line)."""
    if len(content) > MAX_BYTES:
        raise UploadInvalid(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it.")
    if isinstance(content, bytes):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UploadInvalid("The file is not UTF-8 text.") from None
    else:
        text = content
    stripped = text.lstrip()
    if filename.lower().endswith(".json") or stripped.startswith(("[", "{")):
        orders = _json_orders(text)
    else:
        orders = _csv_orders(text)
    if not orders:
        raise UploadInvalid("The file holds no order.")
    if len(orders) > MAX_ORDERS:
        raise UploadInvalid(f"The file holds {len(orders)} orders; upload at most {MAX_ORDERS} at a time.")
    return orders


def _json_orders(text: str) -> list[UploadedOrder]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UploadInvalid(f"The file is not valid JSON: {exc.msg} (line {exc.lineno}).") from None
    if isinstance(data, dict) and isinstance(data.get("orders"), list):
        data = data["orders"]
    elif isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise UploadInvalid("The JSON must be a list of orders, or an object with a list under “orders”.")
    orders = []
    for i, item in enumerate(data, start=1):
        order = UploadedOrder(f"Order {i}", item if isinstance(item, dict) else {})
        if not isinstance(item, dict):
            order.errors.append("An order must be a JSON object.")
        orders.append(order)
    return orders


def _csv_orders(text: str) -> list[UploadedOrder]:
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    if "webOrderNumber" not in columns:
        raise UploadInvalid("The CSV's first row must name its columns, webOrderNumber among them.")
    unknown = [c for c in columns if c and c not in ORDER_COLUMNS and c not in LINE_COLUMNS]
    if unknown:
        raise UploadInvalid(f"Unknown column(s): {', '.join(unknown)}.")
    by_number: dict[str, tuple[list[int], dict[str, Any]]] = {}
    for row_number, raw in enumerate(reader, start=2):  # the header is row 1
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        number = row.get("webOrderNumber", "")
        rows, order = by_number.setdefault(number or f"(row {row_number})", ([], {}))
        rows.append(row_number)
        if len(rows) == 1:
            order.update({k: v for k, v in row.items() if k in ORDER_COLUMNS and v})
        line = {LINE_COLUMNS[k]: v for k, v in row.items() if k in LINE_COLUMNS and v}
        if line:
            order.setdefault("orderLines", []).append(line)
    return [UploadedOrder(_rows_text(rows), order) for rows, order in by_number.values()]


def _rows_text(rows: Sequence[int]) -> str:
    return f"Row {rows[0]}" if len(rows) == 1 else f"Rows {', '.join(str(r) for r in rows)}"


def _messages(errors: Any, prefix: str = "") -> list[str]:
    """A serializer's nested errors as sentences: "orderDate: Date has wrong format…"."""
    if isinstance(errors, Mapping):
        return [
            m
            for key, value in errors.items()
            for m in _messages(value, f"{prefix}{key}: " if key != "non_field_errors" else prefix)
        ]
    if isinstance(errors, list):
        if all(isinstance(e, str) for e in errors):
            return [f"{prefix}{e}" for e in errors]
        return [m for i, e in enumerate(errors, start=1) if e for m in _messages(e, f"{prefix}line {i}: ")]
    return [f"{prefix}{errors}"]


class _RollBack(Exception):
    """Leaves the import's transaction without saving (a preview, or an error in any order)."""


def orders_import(orders: list[UploadedOrder], *, actor_id: int | None, save: bool) -> ImportResult:
    """Validate every order as the admin API does and import them all in one transaction; kept only when
    `save` and no order has an error (each order's errors are on it). Without `save`: a preview."""
    valid: list[tuple[UploadedOrder, OrderImportSerializer]] = []
    for order in orders:
        if order.errors:
            continue
        serializer = OrderImportSerializer(data=order.data)
        if serializer.is_valid():
            valid.append((order, serializer))
            order.website_name = serializer.validated_data["websiteId"].name
        else:
            order.errors.extend(_messages(serializer.errors))
    by_website: dict[Any, list[tuple[UploadedOrder, OrderImport]]] = {}
    for order, serializer in valid:
        values, lines = serializer.order_values()
        by_website.setdefault(serializer.validated_data["websiteId"], []).append(
            (
                order,
                OrderImport(
                    web_order_number=serializer.validated_data["webOrderNumber"],
                    customer=serializer.validated_data["customerNumber"],
                    values=values,
                    lines=lines or (),
                ),
            )
        )
    saved = False
    try:
        with transaction.atomic():
            for website, items in by_website.items():
                results = order_import_many(
                    website=website, orders=[item for _, item in items], actor_id=actor_id, channel="admin"
                )
                for (order, _), result in zip(items, results, strict=True):
                    if isinstance(result, DomainError):
                        order.errors.append(str(result.message))
            if not save or any(o.errors for o in orders):
                raise _RollBack
            saved = True
    except _RollBack:
        pass
    return ImportResult(orders, saved=saved)


def installation_is_empty() -> bool:
    """No order yet: the console offers *Load sample data*."""
    return not Order.objects.exists()
