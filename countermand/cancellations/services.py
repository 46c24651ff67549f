"""Every state change of a cancellation: request, send, confirm, deny, fail, resend.

Each function is one transaction that locks the order row, re-checks what it must, and writes an
OrderEvent. E-mail goes out after commit. The OrderCancel job is inserted in the same transaction as the
request, so a cancellation and its delivery to the ERP commit together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from countermand.cancellations.models import ORDER_CANCEL_HANDLER, CancellationRequest, CancellationRequestLine
from countermand.core.errors import Conflict, NotFound, ValidationFailed
from countermand.core.events import DomainEventType, domain_event_publish
from countermand.integration.models import JobDefinition
from countermand.integration.plugin import CANCEL_LINES_PARAMETER, CancelLine, cancel_lines_json
from countermand.integration.services import job_enqueue
from countermand.orders.models import Order, OrderEvent, OrderLine
from countermand.orders.policies import (
    ALREADY_REQUESTED,
    MAPPING_DISALLOWS,
    STATUS_NOT_CANCELLABLE,
    Actor,
    Blocker,
    Eligibility,
    LineBlockerCode,
    cancellation_eligibility,
    line_quantity_cancellable,
    line_quantity_remaining,
    quantity_text,
)
from countermand.orders.selectors import cancellation_rules
from countermand.orders.services import StatusHeld, StatusSource, order_erp_status_apply
from countermand.settings.selectors import settings_for

logger = logging.getLogger(__name__)
State = CancellationRequest.State
Channel = CancellationRequest.Channel


class OrderNotCancellable(Conflict):
    """The rules forbid this cancellation; `blockers` says why."""

    code = "ORDER_NOT_CANCELLABLE"

    def __init__(self, blockers: list[Blocker]) -> None:
        codes = {b.code for b in blockers}
        # Both status rules say the same to a person ("this status can't be cancelled"): say it once.
        said = [b for b in blockers if not (b.code == MAPPING_DISALLOWS and STATUS_NOT_CANCELLABLE in codes)]
        super().__init__(" ".join(b.message for b in said), blockers=[b.as_dict() for b in blockers])
        self.blockers = blockers


class LinesNotCancellable(Conflict):
    """The asked lines break the partial-cancellation rules; `blockers` lists them per line
    (`{lineNumber, code, message}`)."""

    code = "LINES_NOT_CANCELLABLE"

    def __init__(self, eligibility: Eligibility) -> None:
        said = [
            f"Line {number}: {b.message}" for number, found in sorted(eligibility.line_blockers.items()) for b in found
        ]
        super().__init__(" ".join(said), blockers=eligibility.line_blockers_list())
        self.eligibility = eligibility


class InvalidCancellationState(Conflict):
    code = "INVALID_CANCELLATION_STATE"


def cancel_job_definition(job_name: str) -> JobDefinition | None:
    # Parameters prefetched: the request and job_enqueue both read them, once per cancellation in all.
    return JobDefinition.objects.prefetch_related("parameters").filter(name=job_name, is_active=True).first()


def _lock_order(order_id: int) -> Order:
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except Order.DoesNotExist:
        raise NotFound("The order no longer exists.", code="ORDER_NOT_FOUND") from None


def _lock_request(request_id: int) -> tuple[CancellationRequest, Order]:
    request = CancellationRequest.objects.filter(pk=request_id).first()
    if request is None:
        raise NotFound(f"There is no cancellation request {request_id}.", code="CANCELLATION_NOT_FOUND")
    order = _lock_order(request.order_id)  # order first, then the request: one lock order everywhere
    request = CancellationRequest.objects.select_for_update().get(pk=request_id)
    return request, order


def _set_status(order: Order, status: str) -> str:
    old = order.status
    order.status = status
    order.save(update_fields=["status", "updated_at"])
    return old


def _enqueue_cancel_job(
    request: CancellationRequest, order: Order, definition: JobDefinition, lines: Sequence[CancelLine] = ()
) -> None:
    declared = {p.name for p in definition.parameters.all()}
    parameters = {"OrderNumber": order.erp_or_web_number} if "OrderNumber" in declared else {}
    if lines:
        if CANCEL_LINES_PARAMETER not in declared:  # the rules refuse it first; never send a partial as whole
            raise Conflict(
                f"Job definition {definition.name} does not declare the {CANCEL_LINES_PARAMETER} parameter: "
                "it cannot carry a partial cancellation.",
                code=LineBlockerCode.PARTIAL_CANCELLATION_UNSUPPORTED,
            )
        parameters[CANCEL_LINES_PARAMETER] = cancel_lines_json(lines)
    request.job = job_enqueue(
        definition=definition,
        parameters=parameters,
        order=order,
        dedupe_key=f"OrderCancel:{order.pk}",
        idempotency_key=request.idempotency_key,
        handler=ORDER_CANCEL_HANDLER,
        requested_by=request.requested_by,
    )
    request.send_count += 1


def _event(
    order: Order,
    type: str,
    *,
    actor_id: int | None,
    channel: str = "",
    old_status: str = "",
    new_status: str = "",
    message: str = "",
    **data: Any,
) -> None:
    OrderEvent.objects.create(
        order=order,
        type=type,
        actor_id=actor_id,
        channel=channel,
        old_status=old_status,
        new_status=new_status or order.status,
        message=message,
        data=data,
    )


def order_cancel_request(
    *,
    order: Order,
    actor: Actor,
    channel: str,
    reason_code: str,
    note: str = "",
    force: bool = False,
    lines: Sequence[tuple[int, Decimal]] = (),
) -> CancellationRequest:
    """Request the cancellation of `order` for `actor` through `channel` (storefront, api, admin, bulk).

    `lines` (line number, quantity) asks for a partial cancellation: those quantities of those lines
    only; none, the whole order. They are checked under the row lock (`cancellation_eligibility`: the
    line's open quantity, the website's AllowPartialCancellation, the job's CancelLines parameter…);
    a partial request leaves the order's status alone until the ERP answers, and its job carries the lines
    in its CancelLines parameter. Raises LinesNotCancellable (with the line blockers), nothing saved.

    In one transaction: lock the order, re-check the rules, create the CancellationRequest, set the order
    to the CancellationRequestedStatus, write the OrderEvent and queue the OrderCancel job with its
    OrderNumber parameter and the request's idempotency key. Without an active OrderCancel job definition
    the order is cancelled here only (request state LocalOnly) or refused, per CancellationWithoutErpJob.

    `force` (administrators with the force-cancel permission) skips the status rules and needs a note.
    Raises OrderNotCancellable (with blockers), ValidationFailed for a missing or unknown reason.
    """
    if channel not in Channel.values:
        raise ValidationFailed(f"Unknown channel {channel!r}.", code="INVALID_CHANNEL")
    reason_code = (reason_code or "").strip()
    note = (note or "").strip()
    if not reason_code:
        raise ValidationFailed("Choose a reason for the cancellation.", code="REASON_REQUIRED")
    if force and not note:
        raise ValidationFailed("A forced cancellation needs a note saying why.", code="REASON_REQUIRED")
    asked = [(int(number), Decimal(quantity)) for number, quantity in lines]
    with transaction.atomic():
        order = _lock_order(order.pk)
        rules = cancellation_rules([order])
        eligibility = cancellation_eligibility(
            order, list(order.lines.all()) if asked else [], rules=rules, actor=actor, requested=asked, force=force
        )
        if eligibility.blockers:
            raise OrderNotCancellable(eligibility.blockers)
        if any(eligibility.line_blockers.values()):
            raise LinesNotCancellable(eligibility)
        settings = settings_for(website_id=order.website_id)
        reasons = settings.cancellation_reasons
        if actor.kind == "buyer" and reason_code not in reasons:
            raise ValidationFailed(
                f"{reason_code!r} is not one of the offered reasons: {', '.join(reasons)}.",
                code="INVALID_REASON",
            )
        definition = cancel_job_definition(settings.order_cancel_job_name)
        request = CancellationRequest(
            order=order,
            requested_by_id=actor.user_id,
            channel=channel,
            reason_code=reason_code,
            reason_text=note,
            forced=force,
            previous_status=order.status,
        )
        if asked and definition is None:  # the rules saw the job; it can only have gone inactive since
            raise LinesNotCancellable(
                Eligibility(
                    [],
                    {
                        number: [
                            Blocker(
                                LineBlockerCode.PARTIAL_CANCELLATION_UNSUPPORTED,
                                "Single lines cannot be passed on to our order system; cancel the whole order.",
                            )
                        ]
                        for number, _ in asked
                    },
                )
            )
        cancel_lines = [CancelLine(number, quantity) for number, quantity in asked]
        try:
            with transaction.atomic():
                if definition is None:
                    request.state = State.LOCAL_ONLY
                    request.resolved_at = timezone.now()
                    request.save()
                    old = _set_status(order, rules.cancelled_status)
                    _event(
                        order,
                        OrderEvent.Type.CANCELLED_LOCALLY,
                        actor_id=actor.user_id,
                        channel=channel,
                        old_status=old,
                        request_id=request.pk,
                        reason=reason_code,
                        message="Cancelled here only: NOT sent to the ERP, because no active "
                        f"{settings.order_cancel_job_name} job definition exists.",
                    )
                    logger.warning("order %s cancelled locally only: no active cancel job", order)
                    domain_event_publish(
                        DomainEventType.CANCELLATION_LOCAL_ONLY, order_id=order.pk, cancellation_id=request.pk
                    )
                else:
                    request.save()
                    CancellationRequestLine.objects.bulk_create(
                        CancellationRequestLine(request=request, line_number=line.line_number, quantity=line.quantity)
                        for line in cancel_lines
                    )
                    _enqueue_cancel_job(request, order, definition, cancel_lines)
                    request.save(update_fields=["job", "send_count"])
                    # A partial cancellation leaves the rest of the order as it is: its status too.
                    old = order.status if cancel_lines else _set_status(order, rules.requested_status)
                    lines_data: dict[str, Any] = (
                        {"lines": [line.as_json() for line in cancel_lines]} if cancel_lines else {}
                    )
                    _event(
                        order,
                        OrderEvent.Type.CANCELLATION_REQUESTED,
                        actor_id=actor.user_id,
                        channel=channel,
                        old_status=old,
                        message=note,
                        request_id=request.pk,
                        reason=reason_code,
                        job_id=request.job_id,
                        forced=force,
                        **lines_data,
                    )
                    domain_event_publish(
                        DomainEventType.CANCELLATION_REQUESTED, order_id=order.pk, cancellation_id=request.pk
                    )
        except IntegrityError as exc:
            # Another transaction opened a request first (possible where row locks are not taken).
            raise OrderNotCancellable(
                [Blocker(ALREADY_REQUESTED, "A cancellation of this order has already been requested.")]
            ) from exc
    return request


def cancellation_mark_sent(*, request_id: int) -> CancellationRequest:
    """The worker started delivering the request to the ERP."""
    with transaction.atomic():
        request, order = _lock_request(request_id)
        if request.state == State.REQUESTED:
            request.state = State.SENT
            request.save(update_fields=["state", "updated_at"])
            _event(order, OrderEvent.Type.CANCELLATION_SENT, actor_id=None, request_id=request.pk)
            domain_event_publish(DomainEventType.CANCELLATION_SENT, order_id=order.pk, cancellation_id=request.pk)
    return request


def cancellation_confirm(
    *,
    request_id: int,
    erp_status: str = "",
    erp_reference: str = "",
    erp_message: str = "",
    cancelled_lines: Sequence[CancelLine] | None = None,
) -> CancellationRequest:
    """The ERP confirmed: the order takes `erp_status` (else CancelledStatus), the buyer is told.

    A partial request cancels its lines' quantities — or `cancelled_lines`, when the ERP reported what it
    actually cancelled (it wins) — updates the lines' totals and the order's, and leaves the order in its
    status (the ERP's `erp_status` when it reports one) unless nothing of it is left: then it is cancelled.
    A whole-order request cancels what each line still has open (its `quantity_cancelled`), in this
    transaction.
    """
    with transaction.atomic():
        request, order = _lock_request(request_id)
        if request.state == State.CONFIRMED:
            return request
        if request.state not in CancellationRequest.OPEN_STATES:
            raise InvalidCancellationState(f"A {request.state} cancellation cannot be confirmed.")
        cancelled = settings_for().cancelled_status
        request.state = State.CONFIRMED
        request.erp_reference = erp_reference[:200]
        request.erp_message = erp_message
        request.resolved_at = timezone.now()
        request.save()
        data: dict[str, Any] = {"request_id": request.pk, "erp_reference": erp_reference}
        status = erp_status or cancelled
        asked = list(request.lines.all())
        if asked:
            applied, left = _lines_cancel(order, request, asked, cancelled_lines)
            data["lines"] = applied
            # Something of the order is left: it goes on in the ERP's latest status (the hold kept it). An
            # ERP answering "Cancelled" about the cancellation itself must not cancel what is left.
            reported = erp_status if erp_status and erp_status != cancelled else ""
            status = cancelled if not left else (reported or request.previous_status)
        else:
            _lines_cancel_open(order)
        order_erp_status_apply(
            order_id=order.pk,
            erp_status=status,
            channel="",
            message=erp_message,
            event_type=OrderEvent.Type.CANCELLATION_CONFIRMED,
            data=data,
            source=StatusSource.ERP,  # the ERP's confirmation
        )
        domain_event_publish(DomainEventType.CANCELLATION_CONFIRMED, order_id=order.pk, cancellation_id=request.pk)
        transaction.on_commit(lambda: _notify_buyer(request.pk))
    return request


CENT = Decimal("0.01")


def _lines_cancel_open(order: Order) -> None:
    """A whole-order cancellation took effect: each line of the (locked) order has what was still open
    (ordered - shipped - cancelled) cancelled, so a cancelled order shows nothing left to cancel. Totals
    stay as they are (the ERP's figures for the cancelled order)."""
    changed = []
    for line in OrderLine.objects.select_for_update().filter(order=order):
        open_quantity = line_quantity_cancellable(line)
        if open_quantity > 0:
            line.quantity_cancelled += open_quantity
            changed.append(line)
    OrderLine.objects.bulk_update(changed, ["quantity_cancelled"])


def _lines_cancel(
    order: Order,
    request: CancellationRequest,
    asked: list[CancellationRequestLine],
    reported: Sequence[CancelLine] | None,
) -> tuple[list[dict[str, Any]], bool]:
    """Apply a confirmed partial cancellation to the (locked) order's lines and totals.

    Returns what was cancelled per line (for the event) and whether anything of the order is left. The
    ERP's `reported` quantities win over the asked ones (a line it does not name: nothing cancelled);
    no line loses more than it has left. Line totals drop by unit price x quantity; the subtotal and
    total by the same, the tax in proportion to the subtotal; shipping stays (the ERP's next refresh
    brings its own figures).
    """
    by_number = {line.line_number: line for line in OrderLine.objects.select_for_update().filter(order=order)}
    quantities = (
        {line.line_number: line.quantity for line in asked}
        if reported is None
        else {line.line_number: line.quantity for line in reported}
    )
    request_lines = {line.line_number: line for line in asked}
    applied: list[dict[str, Any]] = []
    reduction = Decimal(0)
    for number, quantity in sorted(quantities.items()):
        line = by_number.get(number)
        if line is None:
            continue
        quantity = max(Decimal(0), min(quantity, line_quantity_remaining(line)))
        amount = min(line.line_total, (line.unit_price * quantity).quantize(CENT, ROUND_HALF_UP))
        line.quantity_cancelled += quantity
        line.line_total -= amount
        line.save(update_fields=["quantity_cancelled", "line_total"])
        reduction += amount
        request_line = request_lines.get(number)
        if request_line is None:  # the ERP cancelled a line nobody asked for: recorded as such
            request_line = CancellationRequestLine(request=request, line_number=number, quantity=Decimal(0))
        request_line.quantity_confirmed = quantity
        request_line.save()
        applied.append({"lineNumber": number, "quantity": quantity_text(quantity), "amount": str(amount)})
    for request_line in asked:
        if request_line.line_number not in quantities:
            request_line.quantity_confirmed = Decimal(0)
            request_line.save(update_fields=["quantity_confirmed"])
    if reduction:
        subtotal = max(Decimal(0), order.subtotal - reduction)
        tax = (
            (order.tax_amount * subtotal / order.subtotal).quantize(CENT, ROUND_HALF_UP)
            if order.subtotal
            else order.tax_amount
        )
        order.total = max(Decimal(0), order.total - reduction - (order.tax_amount - tax))
        order.subtotal, order.tax_amount = subtotal, tax
        order.save(update_fields=["subtotal", "tax_amount", "total", "updated_at"])
    left = any(line_quantity_remaining(line) > 0 for line in by_number.values())
    return applied, left


def cancellation_deny(
    *, request_id: int, erp_message: str, erp_reference: str = "", erp_status: str = ""
) -> CancellationRequest:
    """The ERP refused: the order takes `erp_status`, the status the ERP reported with its refusal (the
    processor just read it), else goes back to its previous status; the ERP's message and reference are kept
    and shown."""
    with transaction.atomic():
        request, order = _lock_request(request_id)
        if request.state == State.DENIED:
            return request
        if request.state not in CancellationRequest.OPEN_STATES:
            raise InvalidCancellationState(f"A {request.state} cancellation cannot be denied.")
        request.state = State.DENIED
        request.erp_message = erp_message
        request.erp_reference = erp_reference[:200]
        request.resolved_at = timezone.now()
        request.save()
        # The status the refusal came with is the ERP's word of now; without one, previous_status is its
        # latest word (the status hold kept it while the request was open).
        order_erp_status_apply(
            order_id=order.pk,
            erp_status=erp_status or request.previous_status,
            channel="",
            message=erp_message,
            event_type=OrderEvent.Type.CANCELLATION_DENIED,
            data={"request_id": request.pk, "erp_reference": erp_reference},
            source=StatusSource.ERP,  # the ERP's latest word, kept by the status hold
        )
        domain_event_publish(DomainEventType.CANCELLATION_DENIED, order_id=order.pk, cancellation_id=request.pk)
        transaction.on_commit(lambda: _notify_buyer(request.pk))
    return request


def cancellation_status_hold(order: Order, erp_status: str) -> StatusHeld | None:
    """The status hold cancellations registers on the orders' ERP-status rule (see apps.py).

    While `order` (locked by the caller) has an open cancellation request it keeps its cancellation
    status; the ERP's `erp_status` becomes the request's previous status, which a denial restores.
    """
    request = (
        CancellationRequest.objects.select_for_update()
        .filter(order_id=order.pk, state__in=CancellationRequest.OPEN_STATES)
        .first()
    )
    if request is None:
        return None
    news = request.previous_status != erp_status
    if news:
        request.previous_status = erp_status
        request.save(update_fields=["previous_status", "updated_at"])
    return StatusHeld(reason=f"cancellation request {request.pk} is open", news=news)


def cancellation_fail(*, request_id: int, error: str) -> CancellationRequest:
    """Delivery gave up (retries exhausted): the request needs attention; the order keeps its status."""
    with transaction.atomic():
        request, order = _lock_request(request_id)
        if request.state not in (State.REQUESTED, State.SENT):
            return request
        request.state = State.FAILED
        request.erp_message = error
        request.save()
        _event(order, OrderEvent.Type.CANCELLATION_FAILED, actor_id=None, message=error, request_id=request.pk)
        domain_event_publish(DomainEventType.CANCELLATION_FAILED, order_id=order.pk, cancellation_id=request.pk)
    return request


def cancellation_resend(*, request_id: int, actor: Actor) -> CancellationRequest:
    """Send a Failed or LocalOnly request to the ERP again, with the same idempotency key."""
    with transaction.atomic():
        request, order = _lock_request(request_id)
        if request.state not in CancellationRequest.NEEDS_ATTENTION_STATES:
            raise InvalidCancellationState(
                f"Only failed or local-only cancellations can be resent; this one is {request.state}."
            )
        settings = settings_for()
        definition = cancel_job_definition(settings.order_cancel_job_name)
        if definition is None:
            raise Conflict(
                f"There is no active {settings.order_cancel_job_name} job definition to send it with; "
                "create one (Administration › Jobs › Job Definitions) first.",
                code="NO_ERP_JOB",
            )
        was_local = request.state == State.LOCAL_ONLY
        request.state = State.REQUESTED
        request.resolved_at = None
        request.erp_message = ""
        try:
            with transaction.atomic():
                request.save()
                lines = [CancelLine(line.line_number, line.quantity) for line in request.lines.all()]
                _enqueue_cancel_job(request, order, definition, lines)
                request.save(update_fields=["job", "send_count"])
        except IntegrityError as exc:
            raise Conflict("This order already has an open cancellation.", code="ALREADY_REQUESTED") from exc
        old = order.status
        if was_local:
            _set_status(order, settings.cancellation_requested_status)
        _event(
            order,
            OrderEvent.Type.CANCELLATION_RESENT,
            actor_id=actor.user_id,
            channel=Channel.ADMIN,
            old_status=old,
            request_id=request.pk,
            job_id=request.job_id,
        )
    return request


def _notify_buyer(request_id: int) -> None:
    """E-mail the buyer who asked: the ERP confirmed or denied their cancellation."""
    request = CancellationRequest.objects.select_related("order", "requested_by").get(pk=request_id)
    user = request.requested_by
    if user is None or not user.email or user.is_staff:
        return
    order = request.order
    partial = request.is_partial
    if request.state == State.CONFIRMED and partial:
        subject = f"Lines of order {order.web_order_number} are cancelled"
        body = f"Your cancellation of lines of order {order.web_order_number} has been confirmed."
    elif request.state == State.CONFIRMED:
        subject = f"Order {order.web_order_number} is cancelled"
        body = f"Your cancellation of order {order.web_order_number} has been confirmed."
    else:
        subject = f"Order {order.web_order_number} could not be cancelled"
        body = f"Your cancellation of order {order.web_order_number} was refused" + (
            f": {request.erp_message}" if request.erp_message else "."
        )
    try:
        send_mail(subject, body, None, [user.email])
    except Exception:  # the cancellation stands; a mail server hiccup must not undo it
        logger.exception("cannot e-mail %s about cancellation %s", user.email, request_id)
