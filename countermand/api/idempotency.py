"""Repeats of the cancel endpoints: `Idempotency-Key`, and a repeat by the same user answered like the first.

A client whose answer was lost (a dropped connection, a timeout) sends the cancel again. Two rules make the
repeat answer what the first one did, instead of `409 ALREADY_REQUESTED` — a success reported as a refusal:

- **Idempotency-Key** (optional header, 1 to 255 printable characters): the first 2xx answer is stored per user
  and key (`IdempotentRequest`) in the transaction that made the cancellation, and replayed to a repeat for
  24 hours (`Idempotent-Replayed: true`). The same key with a different body (or on another endpoint) is
  `422 IDEMPOTENCY_KEY_REUSED`. Error answers are not stored: a repeat runs again (a 409 says the same
  again; after a 503 outage it is the retry the client meant).
- **Same-user repeat**: a cancel refused only because the order already has an open cancellation that this
  user asked for answers 200 with the order and that request — with or without a key — when it asks the same
  thing (the same lines and quantities, or both the whole order). A cancel asking for something else is
  `409 ORDER_NOT_CANCELLABLE` / `ALREADY_REQUESTED`, saying the open request asks for something else: a 200
  would tell the client that what it asked now is being cancelled.

Expired keys are purged with the job retention (`idempotency_keys_purge`, registered in `ApiConfig.ready()`).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from countermand.api.models import IdempotentRequest
from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.selectors import open_cancellation_of
from countermand.cancellations.services import OrderNotCancellable
from countermand.core.errors import ValidationFailed
from countermand.orders.models import Order
from countermand.orders.policies import ALREADY_REQUESTED, Blocker, quantity_text

HEADER = "Idempotency-Key"
KEY_LIFETIME = datetime.timedelta(hours=24)
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # printable ASCII, no spaces (what clients put in headers)

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique value (a UUID): a repeat with the same key within 24 h gets the first answer again "
    "(`Idempotent-Replayed: true`); the same key with a different body is 422 IDEMPOTENCY_KEY_REUSED.",
)


class IdempotencyKeyInvalid(ValidationFailed):
    code = "IDEMPOTENCY_KEY_INVALID"


class IdempotencyKeyReused(ValidationFailed):
    """The key was sent before with another request (422)."""

    code = "IDEMPOTENCY_KEY_REUSED"
    http_status = 422


def _fingerprint(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(stored: IdempotentRequest, *, endpoint: str, fingerprint: str) -> Response:
    if stored.endpoint != endpoint or stored.fingerprint != fingerprint:
        raise IdempotencyKeyReused(
            f"This {HEADER} was already used with a different request; use a new key for a new request."
        )
    return Response(stored.response_body, status=stored.response_status, headers={"Idempotent-Replayed": "true"})


def _stored(user_id: int, key: str) -> IdempotentRequest | None:
    return IdempotentRequest.objects.filter(
        user_id=user_id, key=key, created_at__gte=timezone.now() - KEY_LIFETIME
    ).first()


def _asks_same(open_request: CancellationRequest, lines: Sequence[tuple[int, Decimal]]) -> bool:
    asked = {int(number): Decimal(quantity) for number, quantity in lines}
    if len(asked) != len(lines):  # a line asked twice is not what any request asks (LINE_REPEATED)
        return False
    return asked == {line.line_number: line.quantity for line in open_request.lines.all()}


def _asks_something_else(open_request: CancellationRequest) -> OrderNotCancellable:
    open_lines = sorted(open_request.lines.all(), key=lambda line: line.line_number)
    what = (
        ", ".join(f"line {line.line_number} × {quantity_text(line.quantity)}" for line in open_lines)
        if open_lines
        else "the whole order"
    )
    return OrderNotCancellable(
        [
            Blocker(
                ALREADY_REQUESTED,
                f"Your open cancellation request of this order asks for something else ({what}); "
                "wait for its answer before asking for another.",
            )
        ]
    )


def cancel_idempotent(
    request: Request,
    *,
    order: Order,
    lines: Sequence[tuple[int, Decimal]],
    cancel: Callable[[], object],
    answer: Callable[[], dict[str, Any]],
) -> Response:
    """Run a cancel endpoint's `cancel` (the service call) and return `answer()` (the order as the endpoint
    shows it), with the module's two rules for repeats. `lines` are the (line number, quantity) pairs the
    cancel asks for (none: the whole order): a same-user repeat must ask what the open request asks."""
    user_id = request.user.pk
    assert user_id is not None  # the cancel endpoints are for signed-in users only
    key = request.headers.get(HEADER)
    if key is not None and not _KEY.fullmatch(key):
        raise IdempotencyKeyInvalid(f"{HEADER} must be 1 to 255 printable characters without spaces.")
    endpoint = f"{request.method} {request.path}"[:200]
    fingerprint = _fingerprint(request.data)
    if key is not None:
        stored = _stored(user_id, key)
        if stored is not None:
            return _replay(stored, endpoint=endpoint, fingerprint=fingerprint)
    # One transaction: the cancellation and its stored answer commit together (the job row too), so a
    # cancellation that committed always has the answer a repeat is given.
    with transaction.atomic():
        try:
            cancel()
        except OrderNotCancellable as exc:
            if {b.code for b in exc.blockers} != {ALREADY_REQUESTED}:
                raise
            open_request = open_cancellation_of(order_id=order.pk, user_id=user_id)
            if open_request is None:
                raise
            if not _asks_same(open_request, lines):
                raise _asks_something_else(open_request) from exc
            # A repeat of this user's own request: the answer it would have had (nothing changed).
        body = answer()
        if key is not None:
            try:
                with transaction.atomic():
                    IdempotentRequest.objects.filter(
                        user_id=user_id, key=key, created_at__lt=timezone.now() - KEY_LIFETIME
                    ).delete()  # an expired use of the key, not purged yet
                    IdempotentRequest.objects.create(
                        user_id=user_id,
                        key=key,
                        endpoint=endpoint,
                        fingerprint=fingerprint,
                        response_status=200,
                        response_body=json.loads(json.dumps(body, cls=JSONEncoder)),
                    )
            except IntegrityError:
                # The same key raced in from a concurrent repeat, which committed first: answer as it did.
                stored = _stored(user_id, key)
                if stored is None:
                    raise
                return _replay(stored, endpoint=endpoint, fingerprint=fingerprint)
    return Response(body)


def idempotency_keys_purge() -> int:
    """Delete the stored answers older than 24 hours; returns how many. Called with the job retention."""
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=timezone.now() - KEY_LIFETIME).delete()
    return deleted
