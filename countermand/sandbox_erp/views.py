"""The Sandbox ERP's HTTP endpoint.

The Sandbox ERP simulates an external ERP for the demo and for trying Countermand without one:
`POST /sandbox-erp/orders/<number>/cancel` with an `Idempotency-Key` header. It confirms the
cancellation, or refuses it (HTTP 409) when the order is shipped — its Countermand status (or the
status it had before the cancellation was requested) is `Shipped` or `Invoiced`, or the number is
listed in the connection option `sandboxShippedOrders`. A body with `lines` ([{lineNumber, quantity}]) is a
partial cancellation: confirmed with those lines (and status Cancelled when nothing of the order is left),
or refused (409) when a line asks for more than is still open — shipped quantities cannot be cancelled.
A repeated key gets the stored answer and has no second effect. The active Sandbox connection's options
make it misbehave: `sandboxFailStatus` (e.g.
503: answer every call with that status) and `sandboxDelaySeconds` (answer that much later). It is
CSRF-exempt and needs no login, like an external system; without an active Sandbox connection it
answers 404 and does nothing.

`GET /sandbox-erp/customers?page=1&pageSize=100` lists the Sandbox ERP's bill-to accounts (the demo's
customers, with addresses) as `webservice_customers` describes, for the demo's CustomerRefresh job.
"""

from __future__ import annotations

import json
import time
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from countermand.cancellations.models import CancellationRequest
from countermand.integration.models import IntegrationConnection
from countermand.orders.models import Order
from countermand.orders.policies import quantity_text
from countermand.sandbox_erp.models import SandboxErpCancellation

SHIPPED_STATUSES = ("Shipped", "Invoiced")
# The Sandbox ERP's customer master data: the demo's two accounts, as an ERP would list them.
SANDBOX_CUSTOMERS = [
    {
        "customerNumber": "C1000",
        "name": "Acme Supplies",
        "isActive": True,
        "addresses": [{"street": "1 Industrial Way", "postalCode": "10115", "city": "Berlin", "country": "DE"}],
    },
    {
        "customerNumber": "C2000",
        "name": "Globex Industrial",
        "isActive": True,
        "addresses": [{"street": "42 Harbour Road", "postalCode": "2000", "city": "Sydney", "country": "AU"}],
    },
]


def sandbox_behaviour() -> dict[str, Any] | None:
    """The options of the active Sandbox connections, combined (None: the Sandbox ERP is off)."""
    options = list(
        IntegrationConnection.objects.filter(type_name="Sandbox", is_active=True).values_list("options", flat=True)
    )
    if not options:
        return None
    return {
        "fail_status": max(int(o.get("sandboxFailStatus") or 0) for o in options),
        "delay": max(float(o.get("sandboxDelaySeconds") or 0) for o in options),
        "shipped": {str(n) for o in options for n in (o.get("sandboxShippedOrders") or [])},
    }


def _lines_asked(request: HttpRequest) -> list[dict[str, Any]] | None:
    """The body's `lines` ([{lineNumber, quantity}]: a partial cancellation), [] for none, None if malformed."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    lines = body.get("lines") if isinstance(body, dict) else None
    if not lines:
        return []
    try:
        return [{"lineNumber": int(i["lineNumber"]), "quantity": Decimal(str(i["quantity"]))} for i in lines]
    except (TypeError, KeyError, ValueError, ArithmeticError):
        return None


def _partial_answer(order_number: str, lines: list[dict[str, Any]], shipped: set[str]) -> tuple[int, dict[str, Any]]:
    """Cancel those quantities of those lines, as a real ERP would: never what has shipped."""
    refusal = _refusal(order_number, shipped)
    if refusal:
        return 409, {"message": refusal}
    order = (
        Order.objects.filter(erp_order_number=order_number).first()
        or Order.objects.filter(web_order_number=order_number).first()
    )
    assert order is not None  # _refusal said it is known
    ours = {line.line_number: line for line in order.lines.all()}
    problems = []
    for asked in lines:
        line = ours.get(asked["lineNumber"])
        if line is None:
            problems.append(f"line {asked['lineNumber']} does not exist")
        elif asked["quantity"] > line.quantity_cancellable:
            problems.append(
                f"line {line.line_number} has {quantity_text(line.quantity_shipped)} of "
                f"{quantity_text(line.quantity_ordered)} shipped: only {quantity_text(line.quantity_cancellable)} "
                "can be cancelled"
            )
    if problems:
        return 409, {"message": f"Order {order_number}: " + "; ".join(problems) + "."}
    left = any(
        line.quantity_ordered
        - line.quantity_cancelled
        - sum((a["quantity"] for a in lines if a["lineNumber"] == number), Decimal(0))
        > 0
        for number, line in ours.items()
    )
    answer: dict[str, Any] = {
        "reference": "",
        "message": f"Lines {', '.join(str(a['lineNumber']) for a in lines)} of order {order_number} cancelled "
        "in the Sandbox ERP.",
        "lines": [{"lineNumber": a["lineNumber"], "quantity": quantity_text(a["quantity"])} for a in lines],
    }
    if not left:  # nothing of the order is left: it is cancelled
        answer["status"] = "Cancelled"
    return 200, answer


def _refusal(order_number: str, shipped: set[str]) -> str:
    """Why the Sandbox ERP refuses to cancel this order ("" when it does not)."""
    if order_number in shipped:
        return f"Order {order_number} has already shipped; it cannot be cancelled."
    order = (
        Order.objects.filter(erp_order_number=order_number).first()
        or Order.objects.filter(web_order_number=order_number).first()
    )
    if order is None:
        return f"Order {order_number} is not known to the ERP."
    before = (
        CancellationRequest.objects.filter(order=order, state__in=CancellationRequest.OPEN_STATES)
        .values_list("previous_status", flat=True)
        .first()
    )
    if order.status in SHIPPED_STATUSES or before in SHIPPED_STATUSES:
        return f"Order {order_number} has already shipped; it cannot be cancelled."
    return ""


@csrf_exempt
@require_POST
@never_cache
def sandbox_order_cancel(request: HttpRequest, order_number: str) -> HttpResponse:
    behaviour = sandbox_behaviour()
    if behaviour is None:
        return JsonResponse({"message": "The Sandbox ERP is off: there is no active Sandbox connection."}, status=404)
    if behaviour["delay"] > 0:
        time.sleep(min(behaviour["delay"], 120.0))
    if behaviour["fail_status"]:
        status = behaviour["fail_status"]
        return JsonResponse({"message": f"The Sandbox ERP was told to fail (HTTP {status})."}, status=status)
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return JsonResponse({"message": "An Idempotency-Key header is required."}, status=400)

    def replay(row: SandboxErpCancellation) -> JsonResponse:
        SandboxErpCancellation.objects.filter(pk=row.pk).update(delivery_count=F("delivery_count") + 1)
        return JsonResponse(row.answer, status=row.http_status)

    existing = SandboxErpCancellation.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return replay(existing)
    lines = _lines_asked(request)
    if lines is None:
        return JsonResponse({"message": 'lines must be a list of {"lineNumber", "quantity"}.'}, status=400)
    refusal = _refusal(order_number, behaviour["shipped"])
    if lines:
        status, answer = _partial_answer(order_number, lines, behaviour["shipped"])
    elif refusal:
        status, answer = 409, {"message": refusal}
    else:
        # An earlier whole-order cancellation (not a partial one) makes this one "already cancelled".
        earlier = (
            SandboxErpCancellation.objects.filter(order_number=order_number, http_status=200)
            .exclude(answer__has_key="lines")
            .first()
        )
        reference = earlier.answer.get("reference") if earlier else ""
        status = 200
        answer = {
            "status": "Cancelled",
            "reference": reference,
            "message": f"Order {order_number} "
            + ("was already cancelled." if earlier else "is cancelled in the Sandbox ERP."),
        }
    try:
        with transaction.atomic():
            row = SandboxErpCancellation.objects.create(
                idempotency_key=key[:100], order_number=order_number[:50], http_status=status, answer=answer
            )
            if status == 200 and not answer.get("reference"):
                answer["reference"] = f"SBX-{row.pk:06d}"
                row.answer = answer
                row.save(update_fields=["answer"])
    except IntegrityError:  # the same key arrived twice at once: the first one's answer stands
        return replay(SandboxErpCancellation.objects.get(idempotency_key=key[:100]))
    return JsonResponse(answer, status=status)


@require_GET
@never_cache
def sandbox_customers(request: HttpRequest) -> HttpResponse:
    """The Sandbox ERP's customers, a page at a time (`page`, `pageSize`)."""
    behaviour = sandbox_behaviour()
    if behaviour is None:
        return JsonResponse({"message": "The Sandbox ERP is off: there is no active Sandbox connection."}, status=404)
    if behaviour["fail_status"]:
        status = behaviour["fail_status"]
        return JsonResponse({"message": f"The Sandbox ERP was told to fail (HTTP {status})."}, status=status)
    try:
        page = max(1, int(request.GET.get("page", "1")))
        size = max(1, min(1000, int(request.GET.get("pageSize", "100"))))
    except ValueError:
        return JsonResponse({"message": "page and pageSize must be whole numbers."}, status=400)
    return JsonResponse({"customers": SANDBOX_CUSTOMERS[(page - 1) * size : page * size]})
