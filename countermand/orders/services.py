"""State changes of orders that do not concern a cancellation: import from the ERP, update, status changes.

Every function locks the order row (when it exists), writes an OrderEvent, and is the only way its
fields change. Cancellations have their own services in countermand.cancellations.services.

A status that comes from the ERP (refresh, the admin API's `PUT orders/{n}`, a cancellation's outcome) is
applied by one function, `order_erp_status_apply` (and `order_update`, which hands a status to the same
rule). While something holds the order's status (an open cancellation request), the order keeps showing
it and the ERP's word is handed to the hold to remember. orders knows no cancellations: cancellations
registers its hold here (`status_hold_register`, from its AppConfig.ready()).

The cancellation statuses (`CancellationRequestedStatus`, `CancelledStatus`) belong to the cancellation
flow: the import and update of an order refuse them (`StatusReserved`) unless the status was read from the
ERP itself (`StatusSource.ERP`: the order history refresh, a cancellation's outcome) — see
`_status_source_check`.

Order numbers (web and ERP) follow one rule, `order_number_problem`, on import, update and refresh.

Order status mappings (configuration, not order state) are written here too, audited as
ConfigurationChange rows (countermand.settings.services).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from countermand.core.errors import Conflict, DomainError, NotFound, ValidationFailed
from countermand.core.events import DomainEventType, domain_event_publish
from countermand.customers.models import Customer
from countermand.orders.models import Order, OrderDrift, OrderEvent, OrderLine, OrderStatusMapping
from countermand.orders.selectors import orders_held
from countermand.settings.models import ConfigurationChange
from countermand.settings.selectors import settings_for
from countermand.settings.services import configuration_change_record, configuration_changes, configuration_snapshot
from countermand.websites.models import Website

ORDER_FIELDS = {
    "erp_order_number",
    "order_date",
    "customer_po",
    "currency",
    "subtotal",
    "tax_amount",
    "shipping_amount",
    "total",
    "status",
}
LINE_FIELDS = {
    "line_number",
    "product_number",
    "description",
    "quantity_ordered",
    "quantity_shipped",
    "quantity_cancelled",
    "unit_price",
    "line_total",
    "status",
}
DECIMAL_FIELDS = {
    "subtotal",
    "tax_amount",
    "shipping_amount",
    "total",
    "quantity_ordered",
    "quantity_shipped",
    "quantity_cancelled",
    "unit_price",
    "line_total",
}


class OrderDataInvalid(ValidationFailed):
    code = "INVALID_ORDER"


class StatusReserved(ValidationFailed):
    """A cancellation status given by an import or an update (400): the cancellation flow sets it."""

    code = "STATUS_RESERVED"


class StatusSource(StrEnum):
    """Who tells an order's status: it decides whether the cancellation statuses may be given."""

    ADMINISTRATOR = "administrator"  # the admin API's import and update: a person's or a script's word
    ERP = "erp"  # read from the ERP by a connection: the order history refresh, a cancellation's outcome


ORDER_NUMBER_MAX_LENGTH = 50  # the columns' length
STATUS_MAX_LENGTH = 50
# A status code as ERPs write them: letters (any language), digits, spaces and a little punctuation — no
# markup (`<script>`), no quotes, no control characters.
STATUS_PATTERN = re.compile(r"[\w][\w .,:;#&+()/-]*")


def order_number_problem(number: str) -> str | None:
    """The one rule for order numbers (web and ERP; import, update and refresh alike): what is wrong with
    `number`, or None. An order number is part of the storefront's and the API's URLs (`/orders/<number>/`),
    so it holds no `/`, no control character, is not `.` or `..` (a browser would drop the segment), has no
    space around it and at most 50 characters."""
    if not number:
        return "it cannot be empty"
    if len(number) > ORDER_NUMBER_MAX_LENGTH:
        return f"it has {len(number)} characters; at most {ORDER_NUMBER_MAX_LENGTH} are allowed"
    if "/" in number:
        return "it cannot contain '/'"
    if any(unicodedata.category(c) in {"Cc", "Cf", "Zl", "Zp"} for c in number):
        return "it cannot contain control characters"
    if number != number.strip():
        return "it cannot start or end with a space"
    if set(number) == {"."}:
        return "it cannot be only dots"
    return None


def order_status_problem(status: str, *, required: bool = True) -> str | None:
    """What is wrong with a status code (order or line), or None: 1 (0 for a line) to 50 characters of
    letters, digits, spaces and `. , : ; # & + ( ) / -`, starting with a letter or digit."""
    if not status:
        return "it cannot be empty" if required else None
    if len(status) > STATUS_MAX_LENGTH:
        return f"it has {len(status)} characters; at most {STATUS_MAX_LENGTH} are allowed"
    if not STATUS_PATTERN.fullmatch(status):
        return "it takes letters, digits, spaces and . , : ; # & + ( ) / - only, starting with a letter or digit"
    return None


def order_number_check(number: Any, *, field: str) -> str:
    """`number` as text if it is a valid order number; else raises OrderDataInvalid naming `field`."""
    text = "" if number is None else str(number)
    problem = order_number_problem(text)
    if problem:
        raise OrderDataInvalid(f"{field} {text[:60]!r} is not a valid order number: {problem}.", field=field)
    return text


def _statuses_reserved(source: StatusSource) -> frozenset[str]:
    """The statuses `source` may not give (`_status_source_check`); a batch reads them once."""
    rules = settings_for()
    if source == StatusSource.ERP:
        return frozenset({rules.cancellation_requested_status})
    return frozenset({rules.cancellation_requested_status, rules.cancelled_status})


def _status_source_check(status: str, *, source: StatusSource, reserved: frozenset[str] | None = None) -> None:
    """Refuse a cancellation status that does not come from the cancellation flow or the ERP.

    `CancellationRequestedStatus` means "we asked the ERP to cancel and wait for its answer": only the
    cancellation service sets it, with the CancellationRequest that the rules, the storefront and the
    outcome handler read — no source may give it. `CancelledStatus` given by an administrator (the admin
    API's `PUT orders/{n}`, an import) would cancel an order with no request, no check of the order role
    (`orders.change_order`) or of the rules, and without telling the ERP, so it is refused and *Cancel
    Order* named instead. The ERP's own word is kept (DESIGN §4: "an ERP order cancelled while ours is not
    takes the ERP's status and gets a CancelledThereNotHere drift"): the order history refresh reads it
    from the ERP through its connection, and a confirmed cancellation's outcome carries it — both pass
    `source=StatusSource.ERP`.
    """
    if status in (reserved if reserved is not None else _statuses_reserved(source)):
        raise StatusReserved(
            f"status {status!r} is set by the cancellation flow only, with its cancellation request and audit "
            "trail: cancel the order with Cancel Order (Admin Console: Sales › Orders; API: POST "
            "/api/v1/admin/orders/{orderNumber}/cancel). An order the ERP cancelled takes its status from the "
            "order history refresh.",
            field="status",
        )


@dataclass(frozen=True)
class StatusHeld:
    """A status hold kept the order's status: `reason` says why (for the OrderEvent), `news` whether the
    hold had not yet remembered this ERP status (nothing is recorded for a status heard before)."""

    reason: str
    news: bool


StatusHold = Callable[[Order, str], StatusHeld | None]
"""A rule that may keep an order's shown status: called with the order (locked, in the caller's
transaction) and the status the ERP reports. When it holds the status it remembers the ERP's word itself
(e.g. as the cancellation request's previous status) and returns a StatusHeld; else None."""

_status_holds: list[StatusHold] = []


def status_hold_register(hold: StatusHold) -> None:
    """Register a status hold (once; an app does it in its AppConfig.ready())."""
    if hold not in _status_holds:
        _status_holds.append(hold)


def _status_held(order: Order, erp_status: str) -> StatusHeld | None:
    for hold in _status_holds:
        held = hold(order, erp_status)
        if held is not None:
            return held
    return None


def _lock_order(order_id: int) -> Order:
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound("The order no longer exists.", code="ORDER_NOT_FOUND") from None


def _clean(values: Mapping[str, Any], allowed: set[str], what: str) -> dict[str, Any]:
    unknown = sorted(set(values) - allowed)
    if unknown:
        raise OrderDataInvalid(f"Unknown {what} field(s): {', '.join(unknown)}.", fields=unknown)
    cleaned: dict[str, Any] = {}
    for key, value in values.items():
        if key in DECIMAL_FIELDS and value is not None:
            try:
                value = Decimal(str(value))
            except InvalidOperation:
                raise OrderDataInvalid(f"{what} field {key} must be a number, not {value!r}.", field=key) from None
        if key == "order_date" and isinstance(value, str):
            try:
                value = datetime.date.fromisoformat(value)
            except ValueError:
                raise OrderDataInvalid(f"order_date must be a date (YYYY-MM-DD), not {value!r}.", field=key) from None
        if key == "status":
            value = str(value or "").strip()
            # An order always has a status; a line may have none (many ERPs keep status on the order only).
            if len(value) > STATUS_MAX_LENGTH or (not value and what == "order"):
                raise OrderDataInvalid(
                    f"{what} status must be {'1' if what == 'order' else '0'} to 50 characters.", field="status"
                )
            problem = order_status_problem(value, required=what == "order")
            if problem:
                raise OrderDataInvalid(f"{what} status {value[:60]!r} is not a status code: {problem}.", field="status")
        if key == "erp_order_number" and value is not None:
            value = order_number_check(value, field="erp_order_number") or None
        cleaned[key] = value
    return cleaned


def _clean_lines(lines: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    cleaned = [_clean(line, LINE_FIELDS, "line") for line in lines]
    numbers = [c.get("line_number") for c in cleaned]
    if any(n is None for n in numbers) or len(set(numbers)) != len(numbers):
        raise OrderDataInvalid("Every line needs a distinct line_number.", field="lines")
    return cleaned


def _replace_lines(order: Order, lines: Sequence[Mapping[str, Any]]) -> None:
    cleaned = _clean_lines(lines)
    order.lines.all().delete()
    OrderLine.objects.bulk_create(OrderLine(order=order, **c) for c in cleaned)


def _clean_import(
    values: Mapping[str, Any], *, source: StatusSource, reserved: frozenset[str] | None = None
) -> dict[str, Any]:
    cleaned = _clean(values, ORDER_FIELDS, "order")
    if not cleaned.get("status"):
        raise OrderDataInvalid("An imported order needs a status.", field="status")
    _status_source_check(cleaned["status"], source=source, reserved=reserved)
    if "order_date" not in cleaned:
        raise OrderDataInvalid("An imported order needs an order_date.", field="order_date")
    return cleaned


def _exists(web_order_number: str) -> Conflict:
    return Conflict(
        f"Order {web_order_number} (or its ERP number) already exists; update it instead.", code="ORDER_EXISTS"
    )


@transaction.atomic
def order_import(
    *,
    web_order_number: str,
    website: Website,
    customer: Customer,
    values: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]] = (),
    actor_id: int | None = None,
    channel: str = "api",
    source: StatusSource = StatusSource.ADMINISTRATOR,
) -> Order:
    """Create an order (with its lines) as the ERP knows it. Raises Conflict when the number exists,
    OrderDataInvalid for a bad number or field, StatusReserved for a cancellation status the `source` may
    not give (`_status_source_check`)."""
    web_order_number = order_number_check(web_order_number, field="web_order_number")
    cleaned = _clean_import(values, source=source)
    try:
        with transaction.atomic():
            order = Order.objects.create(
                web_order_number=web_order_number, website=website, customer=customer, **cleaned
            )
    except IntegrityError as exc:
        raise _exists(web_order_number) from exc
    _replace_lines(order, lines)
    OrderEvent.objects.create(
        order=order, type=OrderEvent.Type.IMPORTED, actor_id=actor_id, channel=channel, new_status=order.status
    )
    return order


@dataclass(frozen=True)
class OrderImport:
    """One order for `order_import_many`: what `order_import` takes for it."""

    web_order_number: str
    customer: Customer
    values: Mapping[str, Any]
    lines: Sequence[Mapping[str, Any]] = ()


def order_import_many(
    *,
    website: Website,
    orders: Sequence[OrderImport],
    actor_id: int | None = None,
    channel: str = "api",
    source: StatusSource = StatusSource.ADMINISTRATOR,
) -> list[Order | DomainError]:
    """`order_import` for many orders in one transaction and a handful of queries: the same rows, lines and
    Imported events. Returns, for each order in turn, the created Order or the error `order_import` would
    have raised for it (OrderDataInvalid; Conflict when its number exists, or came earlier in `orders`);
    one order's error keeps out only that order."""
    results: list[Order | DomainError | None] = [None] * len(orders)
    reserved = _statuses_reserved(source)
    prepared: list[tuple[int, OrderImport, dict[str, Any], list[dict[str, Any]]]] = []
    for index, item in enumerate(orders):
        try:
            order_number_check(item.web_order_number, field="web_order_number")
            cleaned = _clean_import(item.values, source=source, reserved=reserved)
            prepared.append((index, item, cleaned, _clean_lines(item.lines)))
        except DomainError as exc:
            results[index] = exc
    web = [item.web_order_number for _, item, _, _ in prepared]
    erp = [cleaned["erp_order_number"] for _, _, cleaned, _ in prepared if cleaned.get("erp_order_number")]
    taken = set()
    if prepared:
        for web_number, erp_number in Order.objects.filter(
            Q(web_order_number__in=web) | Q(erp_order_number__in=erp)
        ).values_list("web_order_number", "erp_order_number"):
            taken |= {("web", web_number), ("erp", erp_number)}
    fresh = []
    for entry in prepared:
        index, item, cleaned, _ = entry
        keys = {("web", item.web_order_number)} | (
            {("erp", cleaned["erp_order_number"])} if cleaned.get("erp_order_number") else set()
        )
        if keys & taken:
            results[index] = _exists(item.web_order_number)
            continue
        taken |= keys
        fresh.append(entry)
    with transaction.atomic():
        try:
            with transaction.atomic():
                created = Order.objects.bulk_create(
                    Order(web_order_number=item.web_order_number, website=website, customer=item.customer, **cleaned)
                    for _, item, cleaned, _ in fresh
                )
        except IntegrityError:
            # Another writer imported one of them meanwhile: one at a time, so that only that one fails.
            for index, item, _, _ in fresh:
                try:
                    results[index] = order_import(
                        web_order_number=item.web_order_number,
                        website=website,
                        customer=item.customer,
                        values=item.values,
                        lines=item.lines,
                        actor_id=actor_id,
                        channel=channel,
                        source=source,
                    )
                except DomainError as exc:
                    results[index] = exc
            return [r for r in results if r is not None]
        OrderLine.objects.bulk_create(
            OrderLine(order=order, **line)
            for order, (_, _, _, lines) in zip(created, fresh, strict=True)
            for line in lines
        )
        OrderEvent.objects.bulk_create(
            OrderEvent(
                order=order, type=OrderEvent.Type.IMPORTED, actor_id=actor_id, channel=channel, new_status=order.status
            )
            for order in created
        )
    for order, (index, _, _, _) in zip(created, fresh, strict=True):
        results[index] = order
    return [r for r in results if r is not None]


@transaction.atomic
def order_update(
    *,
    order_id: int,
    values: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]] | None = None,
    actor_id: int | None = None,
    channel: str = "api",
    message: str = "",
    source: StatusSource = StatusSource.ADMINISTRATOR,
) -> Order:
    """Update an order from the ERP. Lines, when given, replace the order's lines.

    A `status` in `values` is the ERP's: it goes through the same rules as `order_erp_status_apply` (a
    cancellation status only from the cancellation flow or the ERP itself, `_status_source_check`; held
    while a cancellation is open). Writes one OrderEvent: StatusChanged when the status changed, else
    Updated (its data says when the ERP's status was held, and by what).
    """
    order = _lock_order(order_id)
    cleaned = _clean(values, ORDER_FIELDS, "order")
    erp_status = cleaned.pop("status", None)
    old_status = order.status
    held = None
    if erp_status is not None and erp_status != order.status:
        _status_source_check(erp_status, source=source)
        held = _status_held(order, erp_status)
        if held is None:
            cleaned["status"] = erp_status
    changed = {k: v for k, v in cleaned.items() if getattr(order, k) != v}
    for key, value in changed.items():
        setattr(order, key, value)
    if changed:
        try:
            with transaction.atomic():
                order.save(update_fields=[*changed, "updated_at"])
        except IntegrityError as exc:
            raise Conflict("Another order already has that ERP order number.", code="ORDER_EXISTS") from exc
    if lines is not None:
        _replace_lines(order, lines)
    news = held is not None and held.news
    if changed or lines is not None or news:
        data: dict[str, Any] = {"fields": sorted(changed), "lines": lines is not None}
        if held is not None:
            data.update(erp_status=erp_status, held_by=held.reason)
        OrderEvent.objects.create(
            order=order,
            type=OrderEvent.Type.STATUS_CHANGED if "status" in changed else OrderEvent.Type.UPDATED,
            actor_id=actor_id,
            channel=channel,
            old_status=old_status,
            new_status=order.status,
            message=message or (_held_message(erp_status or "", held.reason) if news and held else ""),
            data=data,
        )
    return order


@dataclass(frozen=True)
class OrderChange:
    """One order for `order_update_many`: what `order_update` takes for it."""

    order_id: int
    values: Mapping[str, Any]
    lines: Sequence[Mapping[str, Any]] | None = None


def order_update_many(
    *,
    changes: Sequence[OrderChange],
    actor_id: int | None = None,
    channel: str = "api",
    message: str = "",
    source: StatusSource = StatusSource.ADMINISTRATOR,
) -> list[Order | DomainError]:
    """`order_update` for many orders in one transaction and a handful of queries: the same fields, lines,
    status rule and events. Returns, for each change in turn, the updated Order or the error that kept that
    one out (NotFound, OrderDataInvalid).

    The status holds are asked only about the orders a registered held-orders lookup names
    (`selectors.orders_held`, one query for the batch): a status hold registers a lookup of the orders it
    holds (cancellations does both). Raises Conflict — and writes nothing — when an ERP order number
    would be taken twice; the caller may then update the orders one at a time.
    """
    reserved = _statuses_reserved(source)
    with transaction.atomic():
        ids = [c.order_id for c in changes]
        locked = {o.pk: o for o in Order.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
        asked = {
            c.order_id
            for c in changes
            if c.order_id in locked and "status" in c.values and c.values["status"] != locked[c.order_id].status
        }
        holding = orders_held(asked) if asked else set()
        now = timezone.now()
        results: list[Order | DomainError] = []
        updates: dict[tuple[tuple[str, Any], ...], list[int]] = {}
        replaced: list[tuple[Order, list[dict[str, Any]]]] = []
        events = []
        for change in changes:
            order = locked.get(change.order_id)
            if order is None:
                results.append(NotFound("The order no longer exists.", code="ORDER_NOT_FOUND"))
                continue
            try:
                cleaned = _clean(change.values, ORDER_FIELDS, "order")
                lines = None if change.lines is None else _clean_lines(change.lines)
                if cleaned.get("status") is not None and cleaned["status"] != order.status:
                    _status_source_check(cleaned["status"], source=source, reserved=reserved)
            except DomainError as exc:
                results.append(exc)
                continue
            erp_status = cleaned.pop("status", None)
            old_status = order.status
            held = None
            if erp_status is not None and erp_status != order.status:
                held = _status_held(order, erp_status) if order.pk in holding else None
                if held is None:
                    cleaned["status"] = erp_status
            changed = {k: v for k, v in cleaned.items() if getattr(order, k) != v}
            for key, value in changed.items():
                setattr(order, key, value)
            if changed:
                order.updated_at = now
                updates.setdefault(tuple(sorted(changed.items())), []).append(order.pk)
            if lines is not None:
                replaced.append((order, lines))
            news = held is not None and held.news
            if changed or lines is not None or news:
                data: dict[str, Any] = {"fields": sorted(changed), "lines": lines is not None}
                if held is not None:
                    data.update(erp_status=erp_status, held_by=held.reason)
                events.append(
                    OrderEvent(
                        order=order,
                        type=OrderEvent.Type.STATUS_CHANGED if "status" in changed else OrderEvent.Type.UPDATED,
                        actor_id=actor_id,
                        channel=channel,
                        old_status=old_status,
                        new_status=order.status,
                        message=message or (_held_message(erp_status or "", held.reason) if news and held else ""),
                        data=data,
                    )
                )
            results.append(order)
        try:
            with transaction.atomic():
                for values, ids in updates.items():  # one UPDATE per distinct set of new values
                    Order.objects.filter(pk__in=ids).update(**dict(values), updated_at=now)
        except IntegrityError as exc:
            raise Conflict("Another order already has that ERP order number.", code="ORDER_EXISTS") from exc
        if replaced:
            OrderLine.objects.filter(order__in=[order for order, _ in replaced]).delete()
            OrderLine.objects.bulk_create(OrderLine(order=order, **line) for order, lines in replaced for line in lines)
        OrderEvent.objects.bulk_create(events)
    return results


def _held_message(erp_status: str, held: str) -> str:
    return f"The ERP reports {erp_status}; the status is kept while {held}."


def order_erp_status_apply(
    *,
    order_id: int,
    erp_status: str,
    channel: str,
    actor_id: int | None = None,
    message: str = "",
    event_type: str = OrderEvent.Type.STATUS_CHANGED,
    data: Mapping[str, Any] | None = None,
    source: StatusSource = StatusSource.ADMINISTRATOR,
) -> Order:
    """Apply a status the ERP reports for an order: the one rule for ERP statuses.

    Locks the order. While a registered status hold keeps the order's status (an open cancellation
    request: the order goes on showing its cancellation status), the status is not changed; the hold
    remembers `erp_status` (the request's previous status, so that a denial restores the ERP's latest
    word) and an Updated event records what the ERP said (once per new word). Otherwise the order takes
    `erp_status` and an event of `event_type` (StatusChanged; a cancellation's outcome names its own,
    e.g. CancellationConfirmed, and always gets one) records old and new status with `data`.

    A cancellation status is refused unless `source` may give it (`_status_source_check`: the
    cancellation's outcome passes StatusSource.ERP). Nothing is written when the status is unchanged and
    the caller names no event type of its own. Call it inside the caller's transaction when the caller has
    more to write (it nests).
    """
    erp_status = _clean({"status": erp_status}, ORDER_FIELDS, "order")["status"]
    with transaction.atomic():
        order = _lock_order(order_id)
        old_status = order.status
        if erp_status != old_status:
            _status_source_check(erp_status, source=source)
        held = _status_held(order, erp_status) if erp_status != old_status else None
        if held is not None:
            if not held.news:
                return order
            OrderEvent.objects.create(
                order=order,
                type=OrderEvent.Type.UPDATED,
                actor_id=actor_id,
                channel=channel,
                old_status=old_status,
                new_status=old_status,
                message=message or _held_message(erp_status, held.reason),
                data={**(data or {}), "erp_status": erp_status, "held_by": held.reason},
            )
            return order
        if erp_status != old_status:
            order.status = erp_status
            order.save(update_fields=["status", "updated_at"])
        elif event_type == OrderEvent.Type.STATUS_CHANGED:
            return order
        OrderEvent.objects.create(
            order=order,
            type=event_type,
            actor_id=actor_id,
            channel=channel,
            old_status=old_status,
            new_status=order.status,
            message=message,
            data=dict(data or {}),
        )
    return order


@transaction.atomic
def order_drift_record(*, order_id: int, kind: str, our_status: str, erp_status: str, message: str = "") -> bool:
    """Record that the ERP contradicts us about an order (once per open kind). Returns True when new."""
    if kind not in OrderDrift.Kind.values:
        raise ValidationFailed(f"Unknown drift kind {kind!r}.", code="INVALID_DRIFT_KIND")
    if OrderDrift.objects.filter(order_id=order_id, kind=kind, resolved_at__isnull=True).exists():
        return False
    drift = OrderDrift.objects.create(
        order_id=order_id, kind=kind, our_status=our_status, erp_status=erp_status, message=message
    )
    OrderEvent.objects.create(
        order_id=order_id,
        type=OrderEvent.Type.DRIFT_DETECTED,
        old_status=our_status,
        new_status=our_status,
        message=message or f"ERP status {erp_status} contradicts {our_status}",
        data={"kind": kind},
    )
    domain_event_publish(DomainEventType.ORDER_DRIFT_FOUND, order_id=order_id, drift_id=drift.pk)
    return True


@transaction.atomic
def order_drift_resolve(*, drift_id: int, actor_id: int | None, note: str = "") -> OrderDrift:
    """Close a drift record once an administrator has reconciled the order with the ERP."""
    drift = OrderDrift.objects.select_for_update().filter(pk=drift_id).first()
    if drift is None:
        raise NotFound(f"There is no drift record {drift_id}.", code="DRIFT_NOT_FOUND")
    if drift.resolved_at is not None:
        return drift
    drift.resolved_at = timezone.now()
    drift.save(update_fields=["resolved_at"])
    OrderEvent.objects.create(
        order_id=drift.order_id,
        type=OrderEvent.Type.DRIFT_RESOLVED,
        actor_id=actor_id,
        channel="admin",
        old_status=drift.our_status,
        new_status=Order.objects.values_list("status", flat=True).get(pk=drift.order_id),
        message=note or f"{drift.get_kind_display()} marked resolved",
        data={"kind": drift.kind, "drift_id": drift.pk},
    )
    return drift


# ---------------------------------------------------------------- order status mappings (configuration)


@transaction.atomic
def order_status_mapping_save(*, mapping: OrderStatusMapping, actor_id: int | None = None) -> OrderStatusMapping:
    """Create or update a mapping (an instance carrying the new values, as the console form or the API
    serializer builds it), audited. Forms and serializers check the values; the database keeps one
    default and one mapping per ERP status (IntegrityError)."""
    stored = OrderStatusMapping.objects.select_for_update().filter(pk=mapping.pk).first() if mapping.pk else None
    before = configuration_snapshot(stored) if stored is not None else {}
    mapping.save()
    configuration_change_record(
        kind=ConfigurationChange.Kind.ORDER_STATUS_MAPPING,
        object_id=mapping.pk,
        object_name=mapping.erp_order_status,
        action=ConfigurationChange.Action.UPDATED if stored is not None else ConfigurationChange.Action.CREATED,
        changes=configuration_changes(before, configuration_snapshot(mapping)),
        actor_id=actor_id,
    )
    return mapping


@transaction.atomic
def order_status_mapping_delete(*, mapping_id: int, actor_id: int | None = None) -> None:
    """Delete a mapping (its status then shows the default mapping, or the raw code), audited."""
    mapping = OrderStatusMapping.objects.select_for_update().filter(pk=mapping_id).first()
    if mapping is None:
        raise NotFound(f"There is no order status mapping {mapping_id}.", code="MAPPING_NOT_FOUND")
    before = configuration_snapshot(mapping)
    mapping.delete()
    configuration_change_record(
        kind=ConfigurationChange.Kind.ORDER_STATUS_MAPPING,
        object_id=mapping_id,
        object_name=mapping.erp_order_status,
        action=ConfigurationChange.Action.DELETED,
        changes=configuration_changes(before, {}),
        actor_id=actor_id,
    )
