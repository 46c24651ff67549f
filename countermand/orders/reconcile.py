"""The order-history reconciler: the part of an order history refresh that every ERP shares — matching the
ERP's orders to ours, importing new ones, applying statuses, and recording drift.

The connection type's *order source* (`ConnectionType.order_source`: Tryton, WebService, or a plugin's)
reads the ERP and hands over `plugin.ErpOrder`s in batches; `OrderHistoryReconciler.apply` writes them through
the order services (`order_import_many`, `order_update_many`, `order_drift_record`), one short
transaction for the new orders and one for the changed orders of each batch — never a transaction
around an ERP call.

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

from countermand.core.errors import Conflict, DomainError
from countermand.customers.models import Customer
from countermand.integration.plugin import ErpOrder, JobLogger, OrderKey, OrderSource
from countermand.orders.models import Order, OrderDrift, OrderStatusMapping
from countermand.orders.selectors import orders_held
from countermand.orders.services import (
    DECIMAL_FIELDS,
    LINE_FIELDS,
    OrderChange,
    OrderImport,
    StatusSource,
    order_drift_record,
    order_import_many,
    order_update,
    order_update_many,
)
from countermand.websites.models import Website

CHANNEL = "refresh"
# The line fields the order services accept, in a fixed order so that lines compare as tuples.
LINE_KEYS = tuple(sorted(LINE_FIELDS))
DECIMAL_LINE_KEYS = DECIMAL_FIELDS & LINE_FIELDS


@dataclass(frozen=True)
class _Write:
    """What the refresh writes to one of our orders: changed fields, new lines, a new ERP status."""

    order: Order
    erp: ErpOrder
    changes: dict[str, Any]
    lines: list[dict[str, Any]] | None
    status: str | None


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


def lines_with_cancellations(
    order: Order, erp_lines: list[dict[str, Any]], *, cancelled: bool = False
) -> list[dict[str, Any]]:
    """The ERP's lines, keeping what we know was cancelled of them (the order's lines are prefetched).

    An ERP that reports `quantity_cancelled` is taken at its word. One that does not (Tryton keeps a
    sale line's reduced quantity only) reports, for a line we cancelled part of, what is left of it: our
    ordered quantity stays and the cancelled quantity is the difference — so a further reduction made in
    the ERP shows as cancelled too, and the ERP's quantities win. Lines without cancellations are as the
    ERP says. An order the ERP reports `cancelled` keeps our quantities on such lines: a cancelled sale keeps
    its lines' quantities (Tryton), which are then not what is left (a confirmed whole-order cancellation
    cancelled all that was open).
    """
    ours = {line.line_number: line for line in order.lines.all()}
    result = []
    for values in erp_lines:
        line = ours.get(int(values.get("line_number") or 0))
        if "quantity_cancelled" in values or line is None or not line.quantity_cancelled:
            result.append(values)
            continue
        values = dict(values)
        if cancelled:
            values["quantity_ordered"] = line.quantity_ordered
            values["quantity_cancelled"] = line.quantity_cancelled
        elif "quantity_ordered" not in values:
            values["quantity_cancelled"] = line.quantity_cancelled
        else:
            left = Decimal(str(values["quantity_ordered"]))
            if left <= line.quantity_ordered:
                values["quantity_ordered"] = line.quantity_ordered
                values["quantity_cancelled"] = line.quantity_ordered - left
            else:  # the ERP has more than was ever ordered here: its quantity is the order, nothing cancelled
                values["quantity_cancelled"] = Decimal(0)
        result.append(values)
    return result


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
        imports: list[ErpOrder] = []
        writes: list[_Write] = []
        for erp in erp_orders:
            order = by_erp.get(erp.erp_order_number or "") or by_web.get(erp.web_order_number)
            if order is None and not may_import:
                continue
            if order is None:
                imports.append(erp)
            else:
                seen.add(order.pk)
                write = self._update(order, erp, held=order.pk in held)
                if write is not None:
                    writes.append(write)
        self._write_many(writes)
        seen |= self._import_many(imports, customers)
        return seen

    @staticmethod
    def _load(erp_orders: Sequence[ErpOrder]) -> list[Order]:
        web = [e.web_order_number for e in erp_orders]
        erp = [e.erp_order_number for e in erp_orders if e.erp_order_number]
        return list(
            Order.objects.filter(Q(web_order_number__in=web) | Q(erp_order_number__in=erp)).prefetch_related("lines")
        )

    # -- one order -----------------------------------------------------------

    def _import_many(self, erp_orders: Sequence[ErpOrder], customers: Mapping[int, Customer]) -> set[int]:
        """Import the new orders of known customers in one transaction; returns the ids created."""
        known: list[tuple[ErpOrder, OrderImport]] = []
        for erp in erp_orders:
            customer = customers.get(self.customers.get(erp.customer_number, 0))
            if customer is None:
                self.counts.unknown_customer += 1
                self.log.debug(f"Skipped {erp.label}: customer {erp.customer_number!r} is not known here.")
                continue
            values = {**erp.values(), "status": erp.status}
            if erp.erp_order_number:
                values["erp_order_number"] = erp.erp_order_number
            lines = [line.values() for line in erp.lines or ()]
            known.append((erp, OrderImport(erp.web_order_number, customer, values, lines)))
        if not known:
            return set()
        results = order_import_many(
            website=self.website,
            orders=[item for _, item in known],
            channel=CHANNEL,
            source=StatusSource.ERP,  # read from the ERP: an order it cancelled comes in Cancelled
        )
        created: set[int] = set()
        for (erp, _), result in zip(known, results, strict=True):
            if isinstance(result, DomainError):
                self.counts.rejected += 1
                self.log.warn(f"Cannot import {erp.label} from {self.source.label}: {result.message}")
                continue
            created.add(result.pk)
            self.counts.imported += 1
            self._check_mapping(erp.status)
            self.log.debug(f"Imported {erp.label} as order {result.web_order_number} ({erp.status}).")
        return created

    def _update(self, order: Order, erp: ErpOrder, *, held: bool) -> _Write | None:
        """What to write to `order` for `erp` (None: nothing changed); drift is recorded at once."""
        changes = {k: v for k, v in erp.values().items() if getattr(order, k) != v}
        if erp.erp_order_number and order.erp_order_number != erp.erp_order_number:
            changes["erp_order_number"] = erp.erp_order_number
        erp_lines = (
            None
            if erp.lines is None
            else lines_with_cancellations(order, [line.values() for line in erp.lines], cancelled=erp.cancelled)
        )
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
            return None
        return _Write(order, erp, changes, lines, status)

    def _write_many(self, writes: Sequence[_Write]) -> None:
        """Apply the batch's writes in one transaction. A cancellation may have been requested since the
        batch was read: under the orders' locks, a status is only replaced if nobody changed it meanwhile
        and no cancellation holds it. Should one write break a constraint (an ERP order number taken),
        the batch is written again one order at a time, so that only that one fails."""
        if not writes:
            return
        ids = [w.order.pk for w in writes if w.status is not None]
        try:
            with transaction.atomic():
                current = dict(
                    Order.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", "status")
                )
                held = orders_held(ids) if ids else set()
                kept = 0
                applied: list[tuple[_Write, str | None]] = []
                changes: list[OrderChange] = []
                for write in writes:
                    status, values = write.status, write.changes
                    if status is not None:
                        if current.get(write.order.pk) != write.order.status or write.order.pk in held:
                            kept += 1
                            status = None
                        else:
                            values = {**values, "status": status}
                    if not values and write.lines is None:
                        continue
                    applied.append((write, status))
                    changes.append(OrderChange(write.order.pk, values, write.lines))
                results = order_update_many(
                    changes=changes,
                    channel=CHANNEL,
                    message=f"Order history refresh from {self.source.label}",
                    source=StatusSource.ERP,  # the ERP's own cancellation is recorded (with its drift)
                )
        except Conflict:
            for write in writes:
                self._write(write)
            return
        self.counts.held_by_cancellation += kept
        for (write, status), result in zip(applied, results, strict=True):
            self._written(write, status, result)

    def _write(self, write: _Write) -> None:
        """One order's write in its own transaction (the fallback of `_write_many`)."""
        order, changes, status = write.order, write.changes, write.status
        try:
            with transaction.atomic():
                if status is not None:
                    current = Order.objects.select_for_update().values_list("status", flat=True).get(pk=order.pk)
                    if current != order.status or order.pk in orders_held([order.pk]):
                        self.counts.held_by_cancellation += 1
                        status = None
                    else:
                        changes = {**changes, "status": status}
                if not changes and write.lines is None:
                    return
                result: Order | DomainError = order_update(
                    order_id=order.pk,
                    values=changes,
                    lines=write.lines,
                    channel=CHANNEL,
                    message=f"Order history refresh from {self.source.label}",
                    source=StatusSource.ERP,
                )
        except DomainError as exc:
            result = exc
        self._written(write, status, result)

    def _written(self, write: _Write, status: str | None, result: Order | DomainError) -> None:
        if isinstance(result, DomainError):
            self.counts.rejected += 1
            number = write.order.web_order_number
            self.log.warn(f"Cannot update order {number} from {write.erp.label}: {result.message}")
            return
        self.counts.updated += 1
        if status is not None:
            self.counts.status_changes += 1
            self._check_mapping(status)
            self.log.info(f"Order {write.order.web_order_number}: {write.order.status} → {status}.")

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
