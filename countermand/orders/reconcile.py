"""The order-history reconciler: the part of an order history refresh that every ERP shares — matching the
ERP's orders to ours, importing new ones, applying statuses, and recording drift.

The connection type's *order source* (`ConnectionType.order_source`: Tryton, WebService, or a plugin's)
reads the ERP and hands over `plugin.ErpOrder`s in batches; `OrderHistoryReconciler.apply` writes them through
the order services (`order_import`, `order_update`, `order_drift_record`), one short transaction per
changed order — never a transaction around an ERP call.

Rules, per ERP order:

- matched to our order by ERP order number, else by web order number; unknown orders of known customers
  (Customer.customer_number = the ERP's customer number) are imported, with their lines, into the
  refresh's website; orders of unknown customers are skipped;
- fields, lines and status are updated when they differ (nothing is written when nothing changed);
- an order with an open cancellation request keeps its status (the cancellation's outcome sets it);
- an order cancelled here whose ERP order is not cancelled keeps its status and gets a
  `CancelledHereNotThere` drift; an ERP order cancelled while ours is not (and no cancellation is open)
  takes the ERP's status and gets a `CancelledThereNotHere` drift. New drift is a Warn line in the job log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q

from countermand.core.errors import DomainError
from countermand.customers.models import Customer
from countermand.integration.plugin import ErpOrder, JobLogger, OrderKey, OrderSource
from countermand.orders.models import Order, OrderDrift, OrderStatusMapping
from countermand.orders.selectors import orders_held
from countermand.orders.services import (
    DECIMAL_FIELDS,
    LINE_FIELDS,
    StatusSource,
    order_drift_record,
    order_import,
    order_update,
)
from countermand.websites.models import Website

CHANNEL = "refresh"
# The line fields the order services accept, in a fixed order so that lines compare as tuples.
LINE_KEYS = tuple(sorted(LINE_FIELDS))
DECIMAL_LINE_KEYS = DECIMAL_FIELDS & LINE_FIELDS


@dataclass
class RefreshCounts:
    imported: int = 0
    updated: int = 0
    status_changes: int = 0
    unchanged: int = 0
    held_by_cancellation: int = 0
    new_drift: int = 0
    unknown_customer: int = 0
    rejected: int = 0
    not_found: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _line_key(line: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(
        Decimal(str(line.get(k) or 0)) if k in DECIMAL_LINE_KEYS else str(line.get(k) or "") for k in LINE_KEYS
    )


def order_key(order: Order) -> OrderKey:
    """What an order source needs to look one of our orders up."""
    return OrderKey(web_order_number=order.web_order_number, erp_order_number=order.erp_order_number)


def lines_differ(order: Order, lines: Sequence[Mapping[str, Any]]) -> bool:
    """Whether the ERP's lines differ from the order's (prefetched) lines."""
    ours = sorted(_line_key({k: getattr(line, k) for k in LINE_KEYS}) for line in order.lines.all())
    return ours != sorted(_line_key(line) for line in lines)


class OrderHistoryReconciler:
    """Applies batches of ERP orders to our order history for one refresh run."""

    def __init__(
        self,
        *,
        website: Website,
        customers: Mapping[str, int],
        source: OrderSource,
        cancelled_statuses: frozenset[str],
        logger: JobLogger,
    ) -> None:
        self.website = website
        self.customers = customers
        self.source = source
        self.cancelled_statuses = cancelled_statuses
        self.log = logger
        self.counts = RefreshCounts()
        mappings = list(OrderStatusMapping.objects.values_list("erp_order_status", "is_default"))
        self.mapped_statuses = {status for status, _ in mappings}
        self.has_default_mapping = any(default for _, default in mappings)
        self._warned_statuses: set[str] = set()

    # -- batches -------------------------------------------------------------

    def apply(self, erp_orders: Sequence[ErpOrder], *, ours: Sequence[Order] | None = None) -> set[int]:
        """Bring `erp_orders` into our order history; returns the ids of our orders matched or created.

        `ours`: the only orders to match (the status sweep passes the orders it asked the ERP about; then
        nothing is imported). Without it, matching orders are loaded and unknown ones imported."""
        may_import = ours is None
        if ours is None:
            ours = self._load(erp_orders)
        by_erp = {o.erp_order_number: o for o in ours if o.erp_order_number}
        by_web = {o.web_order_number: o for o in ours}
        held = orders_held([o.pk for o in ours])
        new = [e for e in erp_orders if not (e.erp_order_number in by_erp or e.web_order_number in by_web)]
        customers = Customer.objects.in_bulk(
            {self.customers[e.customer_number] for e in new if e.customer_number in self.customers}
        )
        seen: set[int] = set()
        for erp in erp_orders:
            order = by_erp.get(erp.erp_order_number or "") or by_web.get(erp.web_order_number)
            if order is None and not may_import:
                continue
            if order is None:
                customer = customers.get(self.customers.get(erp.customer_number, 0))
                created = self._import(erp, customer)
                if created is not None:
                    seen.add(created.pk)
            else:
                seen.add(order.pk)
                self._update(order, erp, held=order.pk in held)
        return seen

    @staticmethod
    def _load(erp_orders: Sequence[ErpOrder]) -> list[Order]:
        web = [e.web_order_number for e in erp_orders]
        erp = [e.erp_order_number for e in erp_orders if e.erp_order_number]
        return list(
            Order.objects.filter(Q(web_order_number__in=web) | Q(erp_order_number__in=erp)).prefetch_related("lines")
        )

    # -- one order -----------------------------------------------------------

    def _import(self, erp: ErpOrder, customer: Customer | None) -> Order | None:
        if customer is None:
            self.counts.unknown_customer += 1
            self.log.debug(f"Skipped {erp.label}: customer {erp.customer_number!r} is not known here.")
            return None
        values = {**erp.values(), "status": erp.status}
        if erp.erp_order_number:
            values["erp_order_number"] = erp.erp_order_number
        try:
            order = order_import(
                web_order_number=erp.web_order_number,
                website=self.website,
                customer=customer,
                values=values,
                lines=[line.values() for line in erp.lines or ()],
                channel=CHANNEL,
                source=StatusSource.ERP,  # read from the ERP: an order it cancelled comes in Cancelled
            )
        except DomainError as exc:
            self.counts.rejected += 1
            self.log.warn(f"Cannot import {erp.label} from {self.source.label}: {exc.message}")
            return None
        self.counts.imported += 1
        self._check_mapping(erp.status)
        self.log.debug(f"Imported {erp.label} as order {order.web_order_number} ({erp.status}).")
        return order

    def _update(self, order: Order, erp: ErpOrder, *, held: bool) -> None:
        changes = {k: v for k, v in erp.values().items() if getattr(order, k) != v}
        if erp.erp_order_number and order.erp_order_number != erp.erp_order_number:
            changes["erp_order_number"] = erp.erp_order_number
        erp_lines = None if erp.lines is None else [line.values() for line in erp.lines]
        lines = erp_lines if erp_lines is not None and lines_differ(order, erp_lines) else None

        status = None
        ours_cancelled = order.status in self.cancelled_statuses
        if ours_cancelled and not erp.cancelled:
            self._drift(
                order,
                OrderDrift.Kind.CANCELLED_HERE_NOT_THERE,
                erp,
                f"Order {order.web_order_number} is cancelled here ({order.status}) but {erp.label} is "
                f"{erp.erp_state} in {self.source.label}.",
            )
        elif erp.status != order.status:
            if held:
                self.counts.held_by_cancellation += 1
            else:
                status = erp.status
                if erp.cancelled and not ours_cancelled:
                    self._drift(
                        order,
                        OrderDrift.Kind.CANCELLED_THERE_NOT_HERE,
                        erp,
                        f"{erp.label} was cancelled in {self.source.label} without a cancellation here; "
                        f"order {order.web_order_number} goes from {order.status} to {erp.status}.",
                    )
        if not changes and lines is None and status is None:
            self.counts.unchanged += 1
            return
        try:
            self._write(order, changes, lines, status)
        except DomainError as exc:
            self.counts.rejected += 1
            self.log.warn(f"Cannot update order {order.web_order_number} from {erp.label}: {exc.message}")

    def _write(
        self, order: Order, changes: dict[str, Any], lines: list[dict[str, Any]] | None, status: str | None
    ) -> None:
        with transaction.atomic():
            if status is not None:
                # A cancellation may have been requested since the batch was read: under the order's lock,
                # its status is only replaced if nobody changed it meanwhile.
                current = Order.objects.select_for_update().values_list("status", flat=True).get(pk=order.pk)
                if current != order.status or order.pk in orders_held([order.pk]):
                    self.counts.held_by_cancellation += 1
                    status = None
                else:
                    changes = {**changes, "status": status}
            if not changes and lines is None:
                return
            order_update(
                order_id=order.pk,
                values=changes,
                lines=lines,
                channel=CHANNEL,
                message=f"Order history refresh from {self.source.label}",
                source=StatusSource.ERP,  # the ERP's own cancellation is recorded (with its drift)
            )
        self.counts.updated += 1
        if status is not None:
            self.counts.status_changes += 1
            self._check_mapping(status)
            self.log.info(f"Order {order.web_order_number}: {order.status} → {status}.")

    def _drift(self, order: Order, kind: str, erp: ErpOrder, message: str) -> None:
        if order_drift_record(
            order_id=order.pk, kind=kind, our_status=order.status, erp_status=erp.status, message=message
        ):
            self.counts.new_drift += 1
            self.log.warn(f"Drift: {message}")

    def _check_mapping(self, status: str) -> None:
        if status in self.mapped_statuses or self.has_default_mapping or status in self._warned_statuses:
            return
        self._warned_statuses.add(status)
        self.log.warn(
            f"No Order Status Mapping for the ERP status {status!r}: buyers see the raw code. Create one in "
            "Administration › System › Order Status Mapping."
        )
