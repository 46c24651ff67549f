"""The plugin API: everything a processor package (built-in or third-party) uses, in one module.

A *processor* is a `Processor` subclass with a `name`, a `kind` (`ProcessorKind`), the connection types it
accepts, the job parameters it reads (`parameters`, checked when a job definition is saved) and
`execute(context)`. The worker runs a job definition's three processors in turn (preprocessor →
integration processor → post processor), giving each the same `ProcessorContext`: typed parameters, the
connection (`ConnectionInfo`), the job log, and read-only views of the job (`JobView`) and of its order
(`OrderView`). A processor returns a `ProcessorResult` (or None) and tells the worker how a call went by
raising:

- `TransientError` — try again later (ERP down, timeout, 5xx); retried with backoff.
- `ErpRejected` — the ERP understood and said no (order shipped…); not retried.
- `ConfigurationError` — the connection is set up wrong (the ERP refused the log-on…): not retried, not an
  outage (the circuit breaker does not count it); the connection is marked with the message, and its jobs
  fail at once without calling the ERP until the connection is edited or *Test connection* gets through.
- anything else — the attempt failed (a bug, bad configuration); retried like a transient error
  until the definition's retries run out, with the traceback in the job log.

A *connection type* (`ConnectionType`) names a kind of connection, documents and checks its options, may
bring its own *Test connection*, and may supply an `OrderSource` for the order history refresh.

Packages register both through the ``countermand.processors`` entry-point group (see `ENTRY_POINT_GROUP`);
`countermand.integration.testing` has the helpers to test them.
"""

from __future__ import annotations

import abc
import base64
import dataclasses
import datetime
import enum
import functools
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from countermand.core.errors import ValidationFailed

if TYPE_CHECKING:
    import httpx

__all__ = [
    "CANCELLED_LINES_KEY",
    "CANCEL_LINES_PARAMETER",
    "ENTRY_POINT_GROUP",
    "CancelLine",
    "ConfigurationError",
    "ConnectionInfo",
    "ConnectionType",
    "ErpOrder",
    "ErpOrderLine",
    "ErpRejected",
    "JobLogger",
    "JobView",
    "OrderKey",
    "OrderLineView",
    "OrderSource",
    "OrderView",
    "ParameterSpec",
    "ParameterType",
    "Processor",
    "ProcessorContext",
    "ProcessorError",
    "ProcessorKind",
    "ProcessorResult",
    "Redactor",
    "TransientError",
    "ValidationFailed",
    "cancel_lines",
    "cancel_lines_json",
    "cancel_lines_parse",
    "cancelled_lines_reported",
    "chunks",
    "last_success_result",
]

ENTRY_POINT_GROUP = "countermand.processors"


class ProcessorKind(enum.StrEnum):
    """The step of the pipeline a processor runs in; the values are what job definitions store."""

    PREPROCESSOR = "preprocessor"
    INTEGRATION = "integration"
    POSTPROCESSOR = "postprocessor"


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


class ProcessorError(Exception):
    """Base of the errors a processor raises on purpose."""


class TransientError(ProcessorError):
    """The ERP could not be reached or answered with a temporary failure: retry later."""


class ErpRejected(ProcessorError):
    """The ERP refused the request for a business reason; `message` is shown to the buyer.

    `erp_reference` is the ERP's reference of the order (kept with the refusal); `erp_status`, when the
    processor read it, is the order's real status in the ERP (our code): an order cancellation denied by the
    ERP takes it at once, rather than the status it had before the request (which the refusal may show stale,
    e.g. a sale shipped since)."""

    def __init__(self, message: str, *, erp_reference: str = "", erp_status: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.erp_reference = erp_reference
        self.erp_status = erp_status


LOGON_REFUSED = "the ERP refused the log-on: check the connection's user and password"


class ConfigurationError(ProcessorError):
    """The connection's configuration is wrong — the ERP refused the log-on, say: retrying cannot help (and
    each retry would be another failed log-in, which ERPs answer by locking the user out), and the ERP is
    not down, so the circuit breaker does not count it. The job fails with this message at once; the
    connection keeps it (`countermand check` and the console show it) and its next jobs fail with it
    without calling the ERP, until the connection is edited or *Test connection* gets through."""

    @classmethod
    def logon_refused(cls, detail: str = "") -> ConfigurationError:
        """The ERP refused the connection's credentials; `detail` is what it said (no secrets in it)."""
        return cls(LOGON_REFUSED + (f" ({detail})" if detail else ""))


# --------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------


class ParameterType(enum.StrEnum):
    """The value types of job parameters (the same values as a job definition parameter's type)."""

    STRING = "String"
    NUMBER = "Number"
    BOOLEAN = "Boolean"
    DATE = "Date"


@dataclass(frozen=True)
class ParameterSpec:
    """A job parameter a processor reads. A job definition that runs the processor must declare a
    parameter of this name with this type; `required=False` ones may be left out (the processor then
    uses its default)."""

    name: str
    type: ParameterType = ParameterType.STRING
    required: bool = False
    description: str = ""


# --------------------------------------------------------------------------
# What a processor sees
# --------------------------------------------------------------------------


class JobLogger(Protocol):
    """The job log. `fatal` fails the attempt once the processor returns; `warn`/`error` make a
    successful job SuccessWithWarnings; `debug` lines are kept only with the definition's debugging on."""

    def debug(self, message: str) -> None: ...
    def info(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...
    def error(self, message: str) -> None: ...
    def fatal(self, message: str) -> None: ...


REDACTED = "[redacted]"
# A password shorter than this is not searched for as plain text: it would garble every line ("abc"); its
# base64 forms and base64(logOn:password) are still redacted, and so is every Authorization value.
MIN_SECRET_LENGTH = 4
# `Authorization: Basic …`, `"authorization": "Session …"`, `Proxy-Authorization=…`, `HTTP_AUTHORIZATION: …`:
# the value runs to the end of the line or the closing quote.
_AUTHORIZATION_VALUE = re.compile(r"""(authorization["']?\s*[:=]\s*["']?)([^"'\r\n]+)""", re.IGNORECASE)


def _base64_forms(raw: str) -> set[str]:
    encoded = raw.encode()
    forms = {base64.b64encode(encoded).decode(), base64.urlsafe_b64encode(encoded).decode()}
    return forms | {form.rstrip("=") for form in forms}


class Redactor:
    """Takes a connection's secrets out of text that an ERP (or a proxy in front of it) may have echoed.

    Redacts the password (as typed, percent-quoted and JSON-escaped), its base64, base64(logOn:password)
    (what `Authorization: Basic` carries) and the value of any Authorization header, whatever the connection.
    The job log, the job's error and its result are redacted with the connection's Redactor before they are
    written (see `integration.joblog.JobLogBuffer`); a processor may use `context.connection.redactor()` for
    anything else it stores.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        unique = sorted({s for s in secrets if s}, key=len, reverse=True)  # longest first: no partial overlaps
        self._secrets = re.compile("|".join(re.escape(s) for s in unique)) if unique else None

    @classmethod
    def for_credentials(cls, log_on: str, password: str) -> Redactor:
        if not password:
            return cls()
        secrets = _base64_forms(password) | _base64_forms(f"{log_on}:{password}")
        if len(password) >= MIN_SECRET_LENGTH:
            secrets |= {password, urllib.parse.quote(password, safe=""), json.dumps(password)[1:-1]}
        return cls(secrets)

    def redact(self, text: str) -> str:
        if not text:
            return text
        text = _AUTHORIZATION_VALUE.sub(lambda m: m.group(1) + REDACTED, text)
        return self._secrets.sub(REDACTED, text) if self._secrets is not None else text

    def redact_json(self, value: Any) -> Any:
        """`value` (a job result: dicts, lists, strings, numbers) with every string redacted."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(k) if isinstance(k, str) else k: self.redact_json(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_json(v) for v in value]
        return value


@dataclass
class ConnectionInfo:
    """A connection as processors see it: decrypted credentials and a ready HTTP client."""

    name: str
    type_name: str
    url: str
    log_on: str
    password: str
    timeout_seconds: float
    options: dict[str, Any]
    http: httpx.Client | None = None

    def redactor(self) -> Redactor:
        """What takes this connection's password and Authorization values out of text (see `Redactor`)."""
        return _credentials_redactor(self.log_on, self.password)


@functools.lru_cache(maxsize=64)
def _credentials_redactor(log_on: str, password: str) -> Redactor:
    return Redactor.for_credentials(log_on, password)


@dataclass(frozen=True)
class OrderLineView:
    """One line of the job's order, read-only."""

    line_number: int
    product_number: str
    description: str
    quantity_ordered: Decimal
    quantity_shipped: Decimal
    unit_price: Decimal
    line_total: Decimal
    status: str
    quantity_cancelled: Decimal = Decimal(0)


@dataclass(frozen=True)
class OrderView:
    """The job's order as it was when the attempt started, read-only (processors never write orders;
    what they learn goes into their `ProcessorResult`)."""

    id: int
    web_order_number: str
    erp_order_number: str | None
    status: str
    customer_number: str
    website: str
    order_date: datetime.date
    customer_po: str = ""
    currency: str = ""
    total: Decimal = Decimal(0)
    lines: tuple[OrderLineView, ...] = ()

    @property
    def erp_or_web_number(self) -> str:
        """The number the ERP knows the order by: its ERP order number, else the web order number."""
        return self.erp_order_number or self.web_order_number

    @classmethod
    def from_order(cls, order: Any) -> OrderView:
        """The view of an order row (with its customer, website and lines; prefetch them to save queries)."""
        return cls(
            id=order.pk,
            web_order_number=order.web_order_number,
            erp_order_number=order.erp_order_number,
            status=order.status,
            customer_number=order.customer.customer_number,
            website=order.website.name,
            order_date=order.order_date,
            customer_po=order.customer_po,
            currency=order.currency,
            total=order.total,
            lines=tuple(
                OrderLineView(
                    line_number=line.line_number,
                    product_number=line.product_number,
                    description=line.description,
                    quantity_ordered=line.quantity_ordered,
                    quantity_shipped=line.quantity_shipped,
                    unit_price=line.unit_price,
                    line_total=line.line_total,
                    status=line.status,
                    quantity_cancelled=getattr(line, "quantity_cancelled", Decimal(0)),
                )
                for line in sorted(order.lines.all(), key=lambda line: line.line_number)
            ),
        )


@dataclass(frozen=True)
class JobView:
    """The job an attempt runs, read-only."""

    id: int
    definition_id: int
    definition_name: str
    idempotency_key: str
    attempt: int
    max_attempts: int


@dataclass
class ProcessorContext:
    """What a processor gets: typed parameters, the connection, the job log, and read-only views of the
    job and its order. `data` carries values along the pipeline (preprocessor → integration processor →
    post processor); for an order cancellation it holds `reason` and `note`."""

    job: JobView
    parameters: dict[str, Any]
    logger: JobLogger
    deadline: datetime.datetime
    connection: ConnectionInfo | None = None
    order: OrderView | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def idempotency_key(self) -> str:
        """Send it to the ERP with every call: a retried delivery must not take effect twice."""
        return self.job.idempotency_key

    @property
    def attempt(self) -> int:
        return self.job.attempt

    def seconds_left(self) -> float:
        """Seconds until the job's timeout; never wait on the ERP longer than this."""
        from django.utils import timezone

        return max(0.0, (self.deadline - timezone.now()).total_seconds())

    def order_source(self, *, cancelled_status: str) -> OrderSource:
        """The order source of the job's connection (its type's `ConnectionType.order_source`).
        Raises ValidationFailed when the job has no connection or its type offers none."""
        from countermand.integration.registry import registry

        connection = self.connection
        ctype = registry().connection_types.get(connection.type_name) if connection is not None else None
        if connection is None or ctype is None or ctype.order_source is None:
            raise ValidationFailed(
                "The order history refresh needs a connection whose type can read orders from the ERP"
                + (f"; {connection.type_name} cannot." if connection is not None else "."),
                code="NO_ORDER_SOURCE",
            )
        return ctype.order_source(connection, cancelled_status, self.logger)

    def customer_source(self) -> CustomerSource:
        """The customer source of the job's connection (its type's `ConnectionType.customer_source`).
        Raises ValidationFailed when the job has no connection or its type offers none."""
        from countermand.integration.registry import registry

        connection = self.connection
        ctype = registry().connection_types.get(connection.type_name) if connection is not None else None
        if connection is None or ctype is None or ctype.customer_source is None:
            readers = sorted(n for n, t in registry().connection_types.items() if t.customer_source is not None)
            raise ValidationFailed(
                "The customer refresh needs a connection whose type can read customers from the ERP "
                f"({' or '.join(readers)})" + (f"; {connection.type_name} cannot." if connection is not None else "."),
                code="NO_CUSTOMER_SOURCE",
            )
        return ctype.customer_source(connection, self.logger)


# --------------------------------------------------------------------------
# What a processor returns
# --------------------------------------------------------------------------

_RESULT_KEYS = {"erp_reference": "erpReference", "erp_status": "erpStatus", "erp_message": "erpMessage"}
_REJECTED_KEY = "erpRejected"


@dataclass(frozen=True)
class ProcessorResult:
    """What a processor reports. For an order cancellation: `erp_status` becomes the order's status
    (empty or None: the CancelledStatus setting), `erp_reference` and `erp_message` are kept and shown.
    `data` holds anything else worth keeping (counts, ids); it is stored with the job.

    None means "not reported" (a later step's value wins, an earlier one's stays); the job row's JSON
    holds only what was reported."""

    erp_reference: str | None = None
    erp_status: str | None = None
    erp_message: str | None = None
    erp_rejected: bool = False
    data: dict[str, Any] = field(default_factory=dict)

    def merged(self, later: ProcessorResult | None) -> ProcessorResult:
        """This result updated by a later step's."""
        if later is None:
            return self
        return ProcessorResult(
            erp_reference=later.erp_reference if later.erp_reference is not None else self.erp_reference,
            erp_status=later.erp_status if later.erp_status is not None else self.erp_status,
            erp_message=later.erp_message if later.erp_message is not None else self.erp_message,
            erp_rejected=later.erp_rejected or self.erp_rejected,
            data={**self.data, **later.data},
        )

    def to_json(self) -> dict[str, Any]:
        """The job row's `result` JSON: `data`'s keys, plus erpReference / erpStatus / erpMessage /
        erpRejected when reported."""
        result = dict(self.data)
        for name, key in _RESULT_KEYS.items():
            value = getattr(self, name)
            if value is not None:
                result[key] = value
        if self.erp_rejected:
            result[_REJECTED_KEY] = True
        return result

    @classmethod
    def from_json(cls, result: dict[str, Any] | None) -> ProcessorResult:
        """Read a job row's `result` JSON back (the inverse of `to_json`)."""
        result = dict(result or {})
        values = {name: result.pop(key) for name, key in _RESULT_KEYS.items() if key in result}
        rejected = bool(result.pop(_REJECTED_KEY, False))
        return cls(
            **{name: None if value is None else str(value) for name, value in values.items()},
            erp_rejected=rejected,
            data=result,
        )


# --------------------------------------------------------------------------
# Partial cancellation: the lines of an order-cancel job
# --------------------------------------------------------------------------

CANCEL_LINES_PARAMETER = "CancelLines"
"""The job parameter (type String) that carries the lines of a partial cancellation, as JSON:
`[{"lineNumber": 2, "quantity": "2"}, …]` — the line numbers of our order and the quantity to cancel of
each (a decimal, as text). Empty: the whole order. Read it with `cancel_lines(context)`. An OrderCancel
job definition must declare it for partial cancellations to be offered at all."""

CANCELLED_LINES_KEY = "cancelledLines"
"""The `ProcessorResult.data` key under which an order-cancel processor may report what the ERP actually
cancelled, in the same shape as `CancelLines` (`[{"lineNumber", "quantity"}]`); it wins over what was
asked. Build it with `cancel_lines_json`'s list form (`[line.as_json() for line in lines]`)."""


@dataclass(frozen=True)
class CancelLine:
    """One line of a partial cancellation: our line number and the quantity to cancel of it."""

    line_number: int
    quantity: Decimal

    def as_json(self) -> dict[str, Any]:
        # 4, not 4.000: the quantity as a person (or an ERP's body template) expects it.
        return {"lineNumber": self.line_number, "quantity": f"{self.quantity.normalize():f}"}


def cancel_lines_parse(value: Any) -> tuple[CancelLine, ...]:
    """The lines of a `CancelLines` value (JSON text, or the list itself). Empty: the whole order.
    Raises ValidationFailed for anything but a list of `{lineNumber, quantity}` with positive quantities."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ()
    try:
        items = json.loads(value) if isinstance(value, str) else value
        if not isinstance(items, list):
            raise ValueError
        lines = tuple(CancelLine(int(item["lineNumber"]), Decimal(str(item["quantity"]))) for item in items)
        if any(line.quantity <= 0 or not line.quantity.is_finite() for line in lines):
            raise ValueError
    except (ValueError, TypeError, KeyError, ArithmeticError):
        raise ValidationFailed(
            f'{CANCEL_LINES_PARAMETER} must be JSON like [{{"lineNumber": 2, "quantity": "2"}}], not {value!r}.',
            code="INVALID_CANCEL_LINES",
        ) from None
    return lines


def cancel_lines(context: ProcessorContext) -> tuple[CancelLine, ...]:
    """The lines the job cancels (empty: the whole order), from its `CancelLines` parameter."""
    return cancel_lines_parse(context.parameters.get(CANCEL_LINES_PARAMETER))


def cancel_lines_json(lines: Iterable[CancelLine]) -> str:
    """The `CancelLines` parameter value of these lines ("" for none: the whole order)."""
    items = [line.as_json() for line in lines]
    return json.dumps(items) if items else ""


def cancelled_lines_reported(data: dict[str, Any] | None) -> tuple[CancelLine, ...] | None:
    """What a processor reported the ERP cancelled (`CANCELLED_LINES_KEY` of its result's data), or None
    when it reported nothing (then what was asked stands)."""
    if not data or CANCELLED_LINES_KEY not in data:
        return None
    items = data[CANCELLED_LINES_KEY] or []
    try:
        return tuple(CancelLine(int(item["lineNumber"]), Decimal(str(item["quantity"]))) for item in items)
    except (ValueError, TypeError, KeyError, ArithmeticError):
        return None


# --------------------------------------------------------------------------
# Processors
# --------------------------------------------------------------------------


class Processor(abc.ABC):
    """Base class of every processor. Subclasses set the class attributes and implement `execute`."""

    name: ClassVar[str]
    kind: ClassVar[ProcessorKind] = ProcessorKind.INTEGRATION
    connection_types: ClassVar[tuple[str, ...]] = ()  # empty: any connection, or none
    # True: the definition's connection must be of a type with an order source (`context.order_source`).
    needs_order_source: ClassVar[bool] = False
    # True: the definition's connection must be of a type with a customer source (`context.customer_source`).
    needs_customer_source: ClassVar[bool] = False
    parameters: ClassVar[tuple[ParameterSpec, ...]] = ()
    description: ClassVar[str] = ""

    @abc.abstractmethod
    def execute(self, context: ProcessorContext) -> ProcessorResult | None:
        """Do the work and return what the ERP said (or None); raise the errors above to fail or retry."""


def last_success_result(job: JobView) -> ProcessorResult | None:
    """The result of the latest successful job of the same definition before `job` (e.g. to continue
    where the previous run of a recurring job stopped), or None."""
    from countermand.integration.models import IntegrationJob

    results = (
        IntegrationJob.objects.filter(
            definition_id=job.definition_id,
            status__in=[IntegrationJob.Status.SUCCESS, IntegrationJob.Status.SUCCESS_WITH_WARNINGS],
        )
        .exclude(pk=job.id)
        .order_by("-finished_at", "-pk")
        .values_list("result", flat=True)
    )
    for result in results[:1]:
        return ProcessorResult.from_json(result)
    return None


# --------------------------------------------------------------------------
# Order sources: what an ERP offers the order history refresh
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ErpOrderLine:
    """An order line as the ERP reports it, in our terms. None: the ERP does not say (our default)."""

    line_number: int
    product_number: str | None = None
    description: str | None = None
    quantity_ordered: Decimal | None = None
    quantity_shipped: Decimal | None = None
    unit_price: Decimal | None = None
    line_total: Decimal | None = None
    status: str | None = None
    # What of the line is cancelled, for an ERP that says so. An ERP that only keeps the net quantity
    # (Tryton: a sale line's quantity once reduced) leaves it None; the refresh then reads its
    # quantity_ordered as what is left of a line we cancelled part of.
    quantity_cancelled: Decimal | None = None

    def values(self) -> dict[str, Any]:
        """The fields the ERP reported, by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}


@dataclass(frozen=True)
class ErpOrder:
    """An order as the ERP reports it, already in our terms (`status` = our ERP status code;
    `erp_state` = the ERP's own word, for messages). None fields: the ERP does not say, leave ours."""

    web_order_number: str
    erp_order_number: str | None
    customer_number: str
    status: str
    erp_state: str
    cancelled: bool
    order_date: datetime.date | None = None
    customer_po: str | None = None
    currency: str | None = None
    subtotal: Decimal | None = None
    tax_amount: Decimal | None = None
    shipping_amount: Decimal | None = None
    total: Decimal | None = None
    lines: tuple[ErpOrderLine, ...] | None = None  # None: not read, leave our lines alone

    VALUE_FIELDS: ClassVar[tuple[str, ...]] = (
        "order_date",
        "customer_po",
        "currency",
        "subtotal",
        "tax_amount",
        "shipping_amount",
        "total",
    )

    @property
    def label(self) -> str:
        return self.erp_order_number or self.web_order_number

    def values(self) -> dict[str, Any]:
        """The order fields besides status and ERP number that the ERP reported, by name."""
        return {name: getattr(self, name) for name in self.VALUE_FIELDS if getattr(self, name) is not None}


# The JSON names of an order's fields — one table for every way an order comes in from an ERP: the admin
# import API (`POST`/`PUT /api/v1/admin/orders`), the WebService order history refresh, and the field table
# of docs/api.md (tests/project/test_order_fields.py keeps the three equal). JSON name → our field name.
ORDER_JSON_FIELDS: dict[str, str] = {
    "webOrderNumber": "web_order_number",
    "erpOrderNumber": "erp_order_number",
    "customerNumber": "customer_number",
    "orderDate": "order_date",
    "status": "status",
    "customerPO": "customer_po",
    "currencyCode": "currency",
    "productTotal": "subtotal",
    "taxAmount": "tax_amount",
    "shippingCharges": "shipping_amount",
    "orderTotal": "total",
    "orderLines": "lines",
}
ORDER_LINE_JSON_FIELDS: dict[str, str] = {
    "lineNumber": "line_number",
    "productErpNumber": "product_number",
    "description": "description",
    "qtyOrdered": "quantity_ordered",
    "qtyShipped": "quantity_shipped",
    "qtyCancelled": "quantity_cancelled",
    "unitNetPrice": "unit_price",
    "lineTotal": "line_total",
    "status": "status",
}

# The fields an ERP reports as decimal amounts (read off the dataclasses above, so they cannot drift apart).
ERP_DECIMAL_FIELDS: frozenset[str] = frozenset(
    f.name for cls in (ErpOrder, ErpOrderLine) for f in dataclasses.fields(cls) if "Decimal" in str(f.type)
)


@dataclass(frozen=True)
class OrderKey:
    """Which of our orders the refresh asks the ERP about."""

    web_order_number: str
    erp_order_number: str | None

    @property
    def erp_or_web_number(self) -> str:
        return self.erp_order_number or self.web_order_number


class OrderSource(Protocol):
    """What an ERP must offer the order history refresh (see `ConnectionType.order_source`)."""

    label: str  # for log lines, e.g. "Tryton http://erp:8000 database prod"
    final_statuses: frozenset[str]  # our codes for orders the ERP changes no more (not swept)
    cancelled_statuses: frozenset[str]  # our codes meaning cancelled

    def changed_orders(
        self,
        *,
        customer_numbers: Sequence[str],
        since: datetime.datetime | None,
        created_after: datetime.datetime | None,
        batch_size: int,
    ) -> Iterator[list[ErpOrder]]:
        """Orders of these customers changed since `since` (all created after `created_after` when
        `since` is None), lines included, in batches of at most `batch_size`."""
        ...

    def orders_for(self, orders: Sequence[OrderKey]) -> list[ErpOrder]:
        """The ERP's current status of these orders (lines not needed); missing ones are left out."""
        ...


# Given the connection, our code for "cancelled" (the CancelledStatus setting) and the job log.
OrderSourceFactory = Callable[[ConnectionInfo, str, JobLogger], OrderSource]


# --------------------------------------------------------------------------
# Customer sources: what an ERP offers the customer refresh
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ErpAddress:
    """One address of an ERP customer (all parts optional; `country` is the ERP's country code)."""

    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""

    def as_dict(self) -> dict[str, str]:
        """The address as stored on our customer and shown by the API (camelCase keys)."""
        return {"street": self.street, "postalCode": self.postal_code, "city": self.city, "country": self.country}


@dataclass(frozen=True)
class ErpCustomer:
    """A bill-to account as the ERP reports it. `customer_number` is the ERP's code for it (Tryton's party
    code): orders name their customer by it."""

    customer_number: str
    name: str
    is_active: bool = True
    addresses: tuple[ErpAddress, ...] = ()


class CustomerSource(Protocol):
    """What an ERP must offer the customer refresh (see `ConnectionType.customer_source`)."""

    label: str  # for log lines

    def customers(self, *, batch_size: int) -> Iterator[list[ErpCustomer]]:
        """Every customer the ERP lists (inactive ones included, with `is_active` False), in batches of at
        most `batch_size`. A customer left out is one the ERP no longer lists."""
        ...


# Given the connection and the job log.
CustomerSourceFactory = Callable[[ConnectionInfo, JobLogger], CustomerSource]


@dataclass(frozen=True)
class ConnectionType:
    """A kind of connection (WebService, Tryton, …): what its options mean and how to check them.

    `validate_options` raises `ValidationFailed` for bad options and returns the cleaned ones. `test`
    (the Admin Console's *Test connection*) returns a short success message or raises with the reason;
    None: the console makes a plain HTTP request to the connection's URL. `order_source` builds the
    `OrderSource` the order history refresh reads; None: the type does not support the refresh.
    `customer_source` likewise builds the `CustomerSource` the customer refresh reads.
    `suggested_url` is the URL a new connection of this type starts with in the Admin Console ("": none);
    one starting with "/" is a path of Countermand's own site (the Sandbox ERP), completed with the
    address the administrator is using."""

    name: str
    description: str
    options_help: dict[str, str] = field(default_factory=dict)
    validate_options: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    test: Callable[[ConnectionInfo], str] | None = None
    order_source: OrderSourceFactory | None = None
    suggested_url: str = ""
    customer_source: CustomerSourceFactory | None = None  # None: the type does not support the customer refresh

    def clean_options(self, options: Any) -> dict[str, Any]:
        """The options checked: a JSON object of known options that `validate_options` accepts."""
        if not isinstance(options, dict):
            raise ValidationFailed("Connection options must be a JSON object.", code="INVALID_CONNECTION_OPTIONS")
        unknown = sorted(set(options) - set(self.options_help))
        if unknown:
            known = ", ".join(sorted(self.options_help)) or "none"
            raise ValidationFailed(
                f"Unknown option(s) {', '.join(unknown)} for a {self.name} connection; known options: {known}.",
                code="INVALID_CONNECTION_OPTIONS",
            )
        return self.validate_options(options) if self.validate_options else options


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """`items` in lists of at most `size` (for ERP calls that take a bounded number of keys)."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
