"""The `Tryton` connection type and its order-cancel processor (Tryton 8.2, JSON-RPC; DESIGN §6).

A Tryton connection names the server's URL, the database (option `database`), a Tryton user (log-on) and
its password. Sessions are cached per worker process by `TrytonClient` and renewed when Tryton answers 401.

How one of our orders is matched to a Tryton sale (option `matchField`):

- `number` (default): the sale's `number` is our ERP order number. An order that has no ERP order number
  yet (its sale was still a draft when we last heard of it) is looked up by `reference` = web order number.
- `reference`: the sale's `reference` is our web order number.

Tryton's sale states become our ERP status codes through the option `statusCodes` (default: the state
itself — `draft`, `quotation`, `confirmed`, `processing`, `done` — and `cancelled` becomes the
`CancelledStatus` setting, so that a sale cancelled in Tryton reads as cancelled here). Administrators
create an Order Status Mapping for each code (display name, *Allow Cancellation* for draft and quotation).
"""

from __future__ import annotations

import contextlib
import datetime
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from django.utils import timezone

from countermand.connectors.tryton_rpc import (
    TrytonAuthError,
    TrytonClient,
    TrytonError,
    TrytonLookupError,
    TrytonUnavailable,
    TrytonUserError,
)
from countermand.integration.plugin import (
    CANCEL_LINES_PARAMETER,
    CANCELLED_LINES_KEY,
    CancelLine,
    ConfigurationError,
    ConnectionInfo,
    ConnectionType,
    ErpOrder,
    ErpOrderLine,
    ErpRejected,
    JobLogger,
    OrderKey,
    ParameterSpec,
    Processor,
    ProcessorContext,
    ProcessorResult,
    TransientError,
    ValidationFailed,
    cancel_lines,
    chunks,
)

TRYTON_STATES = ("draft", "quotation", "confirmed", "processing", "done", "cancelled")
FINAL_STATES = ("done", "cancelled")
MATCH_FIELDS = ("number", "reference")

TRYTON_OPTIONS = {
    "database": "The Tryton database name (required; the -d of trytond).",
    "matchField": "How our order matches a sale: number (sale number = ERP order number, the default) "
    "or reference (sale reference = web order number).",
    "resetConfirmedToDraft": "true: a confirmed sale is put back to draft to cancel it; false (default): "
    "the cancellation of a confirmed sale is refused.",
    "statusCodes": 'Our ERP status code for each Tryton sale state, e.g. {"done": "Shipped"}; default: the '
    "state itself, and cancelled → the CancelledStatus setting.",
    "website": "Name of the website that orders brought in by the order history refresh belong to.",
    "language": "Language of Tryton's messages (default en).",
}


def _validate_tryton_options(options: dict[str, Any]) -> dict[str, Any]:
    def refuse(message: str) -> ValidationFailed:
        return ValidationFailed(message, code="INVALID_CONNECTION_OPTIONS")

    database = options.get("database")
    if not isinstance(database, str) or not database.strip():
        raise refuse('A Tryton connection needs the option "database" (the Tryton database name).')
    if options.get("matchField", "number") not in MATCH_FIELDS:
        raise refuse(f"matchField must be number or reference, not {options.get('matchField')!r}.")
    if not isinstance(options.get("resetConfirmedToDraft", False), bool):
        raise refuse("resetConfirmedToDraft must be true or false.")
    codes = options.get("statusCodes", {})
    if not isinstance(codes, dict):
        raise refuse('statusCodes must be a JSON object, e.g. {"done": "Shipped"}.')
    unknown = sorted(set(codes) - set(TRYTON_STATES))
    if unknown:
        raise refuse(
            f"statusCodes has unknown Tryton state(s) {', '.join(unknown)}; known: {', '.join(TRYTON_STATES)}."
        )
    for state, code in codes.items():
        if not isinstance(code, str) or not code.strip() or len(code) > 50:
            raise refuse(f"statusCodes[{state!r}] must be a status code of 1 to 50 characters.")
    for name in ("website", "language"):
        if name in options and (not isinstance(options[name], str) or not options[name].strip()):
            raise refuse(f"{name} must be a non-empty text.")
    return {**options, "database": database.strip()}


def _test_tryton(connection: ConnectionInfo) -> str:
    """The Admin Console's *Test connection*: log in and count the sales the user can see."""
    options = _validate_tryton_options(dict(connection.options or {}))
    client = TrytonClient(
        connection.url,
        options["database"],
        connection.log_on,
        connection.password,
        timeout=float(connection.timeout_seconds or 30),
    )
    started = time.perf_counter()
    try:
        user_id = client.login()
        sales = client.call("model.sale.sale.search_count", [])
    except TrytonAuthError:
        raise RuntimeError(
            f"Tryton refused the log-on of {connection.log_on!r}: check the connection's user and password"
        ) from None
    except TrytonError as exc:
        raise RuntimeError(exc.message) from None
    finally:
        client.close()
    elapsed_ms = (time.perf_counter() - started) * 1000
    return (
        f"logged in to Tryton database {options['database']} as {connection.log_on} (user {user_id}) "
        f"in {elapsed_ms:.0f} ms; {sales} sale(s) visible"
    )


TRYTON = ConnectionType(
    name="Tryton",
    description="A Tryton 8.2 server (JSON-RPC): sales are cancelled and read through the sale workflow.",
    options_help=TRYTON_OPTIONS,
    validate_options=_validate_tryton_options,
    test=_test_tryton,
    order_source=lambda connection, cancelled_status, logger: tryton_order_source(connection, cancelled_status, logger),
    customer_source=lambda connection, logger: _tryton_customer_source(connection, logger),
)


def _tryton_customer_source(connection: ConnectionInfo, logger: JobLogger) -> Any:
    # Imported here: tryton_customers builds on this module's client helpers.
    from countermand.connectors.tryton_customers import tryton_customer_source

    return tryton_customer_source(connection, logger)


class TrytonSaleNotFound(Exception):
    """No Tryton sale matches the order. Not an ERP refusal: the job fails (and is retried, since the
    sale may not have reached Tryton yet) with this message in its log."""


def tryton_client(connection: ConnectionInfo, *, timeout: float | None = None) -> TrytonClient:
    """A TrytonClient for a connection. Cheap: the session is shared per process (see tryton_rpc)."""
    return TrytonClient(
        connection.url,
        str(connection.options["database"]),
        connection.log_on,
        connection.password,
        timeout=timeout if timeout is not None else float(connection.timeout_seconds),
        http_client=connection.http,
        language=str(connection.options.get("language", "en")),
    )


@contextlib.contextmanager
def tryton_errors(connection: ConnectionInfo) -> Iterator[None]:
    """Tryton's errors as the worker understands them: unavailable → TransientError, log-on refused →
    ConfigurationError (never retried: each retry is one more failed log-in, and Tryton answers a few of those
    with HTTP 429, locking the user out for everyone on this host)."""
    try:
        yield
    except TrytonUnavailable as exc:
        raise TransientError(f"Tryton is unavailable: {exc.message}") from exc
    except TrytonAuthError as exc:
        raise ConfigurationError.logon_refused(
            f"Tryton refused the log-on of {connection.log_on!r} on database {connection.options.get('database')!r}"
        ) from exc


def require_tryton(context: ProcessorContext, processor: str) -> ConnectionInfo:
    connection = context.connection
    if connection is None or connection.type_name != "Tryton":
        raise ValidationFailed(f"{processor} needs a Tryton connection on its job definition.")
    if "database" not in connection.options:
        raise ValidationFailed(f'The Tryton connection {connection.name} has no "database" option.')
    return connection


def status_code(state: str, options: dict[str, Any], cancelled_status: str) -> str:
    """Our ERP status code for a Tryton sale state (see the module docstring)."""
    codes = options.get("statusCodes") or {}
    if state in codes:
        return str(codes[state])
    return cancelled_status if state == "cancelled" else state


@dataclass(frozen=True)
class SaleKey:
    """Which sale field to search and the value our order has for it."""

    field: Literal["number", "reference"]
    value: str

    def __str__(self) -> str:
        return f"{self.field} {self.value!r}"


def sale_key(*, options: dict[str, Any], web_order_number: str | None, erp_order_number: str | None) -> SaleKey:
    """The sale lookup for an order with these numbers, per the connection's `matchField`."""
    if options.get("matchField", "number") == "reference" or not erp_order_number:
        return SaleKey("reference", web_order_number or "")
    return SaleKey("number", erp_order_number)


def sale_label(sale: dict[str, Any]) -> str:
    number = sale.get("number") or f"#{sale.get('id')}"
    return f"{number} [{sale['reference']}]" if sale.get("reference") else str(number)


class TrytonOrderCancel(Processor):
    """Cancels the Tryton sale of an order through the sale workflow.

    draft / quotation → `cancel`; confirmed → `draft` then `cancel` when the connection's
    `resetConfirmedToDraft` is true, else refused; processing / done → refused with Tryton's message
    (`ErpRejected`); already cancelled → confirmed (a retried delivery finds its own earlier effect).
    The sale is looked up by the job's order (see `matchField`), or by the `OrderNumber` parameter when the
    job concerns no order. Tryton unreachable, 5xx, 429 → `TransientError`; log-on refused →
    `ConfigurationError`; no such sale → failure.
    """

    name = "TrytonOrderCancel"
    connection_types = ("Tryton",)
    parameters = (
        ParameterSpec("OrderNumber", description="The sale to cancel when the job concerns no order."),
        ParameterSpec(
            CANCEL_LINES_PARAMETER,
            description="Partial cancellation: the lines to cancel as JSON [{lineNumber, quantity}]; empty: the "
            "whole sale. Set by the cancellation service.",
        ),
    )
    description = "Cancels an order's sale in Tryton, or reduces some of its lines (see docs/tryton.md)."

    def execute(self, context: ProcessorContext) -> ProcessorResult:
        connection = require_tryton(context, self.name)
        options = connection.options
        key = self._key(context, options)
        timeout = max(0.5, min(float(connection.timeout_seconds), context.seconds_left()))
        client = tryton_client(connection, timeout=timeout)
        where = f"Tryton {connection.url} database {options['database']}"
        context.logger.info(f"Looking up the sale whose {key} in {where} (attempt {context.attempt}).")
        with tryton_errors(connection):
            try:
                sale = client.sale_find(key.field, key.value)
            except TrytonLookupError as exc:
                raise RuntimeError(f"Several Tryton sales have {key}; match orders by number instead.") from exc
            if sale is None:
                message = (
                    f"No Tryton sale has {key} in {where}. Check that the order reached Tryton and the "
                    f"connection's matchField option ({options.get('matchField', 'number')})."
                )
                context.logger.error(message)
                raise TrytonSaleNotFound(message)
            lines = cancel_lines(context)
            if lines:
                return self._cancel_lines(context, client, sale, options, lines)
            return self._cancel(context, client, sale, options)

    @staticmethod
    def _key(context: ProcessorContext, options: dict[str, Any]) -> SaleKey:
        order = context.order
        if order is not None:
            if options.get("matchField", "number") == "number" and not order.erp_order_number:
                context.logger.info(
                    f"Order {order.web_order_number} has no ERP order number yet: matching the sale by reference."
                )
            return sale_key(
                options=options, web_order_number=order.web_order_number, erp_order_number=order.erp_order_number
            )
        number = str(context.parameters.get("OrderNumber") or "").strip()
        if not number:
            raise ValidationFailed("TrytonOrderCancel needs an order or an OrderNumber parameter.")
        return SaleKey("reference" if options.get("matchField") == "reference" else "number", number)

    def _cancel(
        self, context: ProcessorContext, client: TrytonClient, sale: dict[str, Any], options: dict[str, Any]
    ) -> ProcessorResult:
        log = context.logger
        label = sale_label(sale)
        state = sale["state"]
        log.info(f"Sale {label} is {state}.")
        if state == "cancelled":
            return self._confirmed(context, sale, options, f"Sale {label} was already cancelled in Tryton.")
        try:
            if state == "confirmed":
                if not options.get("resetConfirmedToDraft", False):
                    log.info(
                        f"Sale {label} is confirmed and this connection does not put confirmed sales back to "
                        "draft (option resetConfirmedToDraft): Tryton will refuse the cancellation."
                    )
                else:
                    log.info(f"Putting confirmed sale {label} back to draft to cancel it.")
                    client.sale_draft(sale["id"])
            client.sale_cancel(sale["id"])
        except TrytonUserError as exc:
            # Tryton gives the same message for every state it cannot cancel from; the state says which.
            (now,) = client.sales_read([sale["id"]], ["id", "number", "reference", "state"])
            if now["state"] == "cancelled":
                return self._confirmed(context, now, options, f"Sale {label} was already cancelled in Tryton.")
            log.warn(f"Tryton refused to cancel sale {label} ({now['state']}): {exc.message}")
            raise ErpRejected(
                exc.message,
                erp_reference=str(sale.get("number") or ""),
                # The sale's state just read: the order takes it (a cancelled one was confirmed above).
                erp_status=status_code(str(now["state"]), options, ""),
            ) from exc
        except (TrytonUnavailable, TrytonAuthError):
            raise
        except TrytonError as exc:
            raise RuntimeError(f"Tryton failed while cancelling sale {label}: {exc.message}") from exc
        return self._confirmed(context, sale, options, f"Sale {label} cancelled in Tryton.")

    def _cancel_lines(
        self,
        context: ProcessorContext,
        client: TrytonClient,
        sale: dict[str, Any],
        options: dict[str, Any],
        lines: tuple[CancelLine, ...],
    ) -> ProcessorResult:
        """Reduce the sale's lines by the asked quantities (see docs/tryton.md, "Partial cancellation").

        Our line n is the sale's n-th line of type `line` (as the order history refresh numbers them). A
        line cancelled in full is set to quantity 0, not deleted: deleting it would renumber the lines
        after it. draft: the sale lines are written; quotation: back to draft, written, quoted again (a
        quotation's lines are read-only). confirmed: back to draft when the
        connection's resetConfirmedToDraft allows, the lines written, then quoted and confirmed again.
        processing: a sale amendment (module sale_amendment) when the database has it, else refused.
        done, cancelled: refused.
        """
        log = context.logger
        label = sale_label(sale)
        state = sale["state"]
        asked = ", ".join(f"{line.quantity.normalize():f} of line {line.line_number}" for line in lines)
        log.info(f"Sale {label} is {state}; cancelling {asked}.")
        reference = str(sale.get("number") or "")
        if state in ("done", "cancelled"):
            message = f"Sale {label} is {state} in Tryton: its lines can no longer be cancelled."
            log.warn(message)
            raise ErpRejected(message, erp_reference=reference)
        try:
            (full,) = client.sales_read([sale["id"]], ["id", "lines"])
            read = client.call("model.sale.line.read", list(full["lines"]), list(PARTIAL_LINE_FIELDS))
            by_id = {line["id"]: line for line in read}
            product_lines = [by_id[i] for i in full["lines"] if i in by_id and by_id[i].get("type", "line") == "line"]
            changes: list[tuple[dict[str, Any], Decimal]] = []
            for line in lines:
                if not 1 <= line.line_number <= len(product_lines):
                    message = f"Sale {label} has no line {line.line_number} (it has {len(product_lines)})."
                    log.warn(message)
                    raise ErpRejected(message, erp_reference=reference)
                sale_line = product_lines[line.line_number - 1]
                quantity = Decimal(str(sale_line.get("quantity") or 0))
                shipped = quantity * Decimal(str(sale_line.get("moves_progress") or 0))
                if line.quantity > quantity - shipped:
                    message = (
                        f"Line {line.line_number} of sale {label} has {quantity.normalize():f} ordered, "
                        f"{shipped.normalize():f} shipped: {line.quantity.normalize():f} cannot be cancelled."
                    )
                    log.warn(message)
                    raise ErpRejected(message, erp_reference=reference)
                changes.append((sale_line, quantity - line.quantity))
            nothing_left = all(quantity <= 0 for quantity in self._quantities_after(product_lines, changes).values())
            if nothing_left and state in ("draft", "quotation", "confirmed"):
                # Cancelling every unit is cancelling the sale: Tryton then shows it cancelled, as we will.
                log.info(f"Nothing of sale {label} would be left: cancelling the sale.")
                return self._cancel(context, client, sale, options)
            if state == "draft":
                self._write_lines(client, changes)
            elif state == "quotation":
                # A quotation's lines are read-only in Tryton: back to draft, change them, quote again.
                client.sale_draft(sale["id"])
                self._write_lines(client, changes)
                client.call("model.sale.sale.quote", [sale["id"]])
            elif state == "confirmed":
                if not options.get("resetConfirmedToDraft", False):
                    message = (
                        f"Sale {label} is confirmed in Tryton and this connection does not put confirmed sales "
                        "back to draft (option resetConfirmedToDraft): its lines cannot be changed."
                    )
                    log.warn(message)
                    raise ErpRejected(message, erp_reference=reference)
                log.info(f"Putting confirmed sale {label} back to draft to change its lines.")
                client.sale_draft(sale["id"])
                self._write_lines(client, changes)
                client.call("model.sale.sale.quote", [sale["id"]])
                client.call("model.sale.sale.confirm", [sale["id"]])
                log.info(f"Sale {label} quoted and confirmed again.")
            else:  # processing
                if not client.call("model.ir.model.search_count", [["name", "=", "sale.amendment"]]):
                    message = (
                        f"Sale {label} is being processed in Tryton, and its lines can only be changed by a sale "
                        "amendment: the Tryton module sale_amendment is not activated in this database."
                    )
                    log.warn(message)
                    raise ErpRejected(message, erp_reference=reference)
                self._amend(context, client, sale, changes)
        except TrytonUserError as exc:
            log.warn(f"Tryton refused to change the lines of sale {label}: {exc.message}")
            raise ErpRejected(exc.message, erp_reference=reference) from exc
        except (TrytonUnavailable, TrytonAuthError, ErpRejected):
            raise
        except TrytonError as exc:
            raise RuntimeError(f"Tryton failed while changing the lines of sale {label}: {exc.message}") from exc
        (now,) = client.sales_read([sale["id"]], ["id", "number", "reference", "state"])
        message = f"Cancelled {asked} of sale {label} in Tryton; the sale is {now['state']}."
        log.info(message)
        return ProcessorResult(
            erp_status=status_code(str(now["state"]), options, ""),
            erp_reference=str(now.get("number") or now.get("reference") or ""),
            erp_message=message,
            data={"trytonSaleId": sale["id"], CANCELLED_LINES_KEY: [line.as_json() for line in lines]},
        )

    @staticmethod
    def _quantities_after(
        product_lines: list[dict[str, Any]], changes: list[tuple[dict[str, Any], Decimal]]
    ) -> dict[int, Decimal]:
        after = {line["id"]: Decimal(str(line.get("quantity") or 0)) for line in product_lines}
        after.update({sale_line["id"]: quantity for sale_line, quantity in changes})
        return after

    @staticmethod
    def _write_lines(client: TrytonClient, changes: list[tuple[dict[str, Any], Decimal]]) -> None:
        arguments: list[Any] = []
        for sale_line, quantity in changes:
            arguments += [[sale_line["id"]], {"quantity": float(quantity)}]
        client.call("model.sale.line.write", *arguments)

    @staticmethod
    def _amend(
        context: ProcessorContext,
        client: TrytonClient,
        sale: dict[str, Any],
        changes: list[tuple[dict[str, Any], Decimal]],
    ) -> None:
        """A validated sale amendment changing the lines' quantities (Tryton re-processes the sale)."""
        amendment_lines = [
            {
                "action": "line",
                "line": sale_line["id"],
                "product": sale_line.get("product"),
                "quantity": float(quantity),
                "unit": sale_line.get("unit"),
                "unit_price": sale_line.get("unit_price"),
                "description": sale_line.get("description"),
            }
            for sale_line, quantity in changes
        ]
        (amendment_id,) = client.call(
            "model.sale.amendment.create",
            [
                {
                    "sale": sale["id"],
                    "description": f"Countermand partial cancellation (job {context.job.id})",
                    "lines": [["create", amendment_lines]],
                }
            ],
        )
        client.call("model.sale.amendment.validate_amendment", [amendment_id])
        context.logger.info(f"Sale amendment {amendment_id} validated in Tryton.")

    @staticmethod
    def _confirmed(
        context: ProcessorContext, sale: dict[str, Any], options: dict[str, Any], message: str
    ) -> ProcessorResult:
        context.logger.info(message)
        return ProcessorResult(
            # Empty unless the connection renames `cancelled`: the order then takes the CancelledStatus setting.
            erp_status=str((options.get("statusCodes") or {}).get("cancelled", "")),
            erp_reference=str(sale.get("number") or sale.get("reference") or ""),
            erp_message=message,
            data={"trytonSaleId": sale["id"]},
        )


# --------------------------------------------------------------------------
# Order history refresh source
# --------------------------------------------------------------------------

SALE_READ_FIELDS = (
    "id",
    "number",
    "reference",
    "state",
    "party.code",
    "currency.code",
    "sale_date",
    "quotation_date",
    "create_date",
    "untaxed_amount",
    "tax_amount",
    "total_amount",
    "lines",
)
SALE_STATUS_FIELDS = ("id", "number", "reference", "state", "party.code")
LINE_READ_FIELDS = (
    "id",
    "type",
    "product.code",
    "product.name",
    "description",
    "quantity",
    "unit_price",
    "amount",
    "moves_progress",
)
# What a partial cancellation reads of the sale's lines (the amendment rewrites product, unit and price too).
PARTIAL_LINE_FIELDS = ("id", "type", "product", "unit", "quantity", "unit_price", "description", "moves_progress")
CUSTOMERS_PER_SEARCH = 500
NUMBERS_PER_SEARCH = 500


class TrytonOrderSource:
    """Reads sales for the order history refresh (see `plugin.OrderSource`)."""

    def __init__(self, connection: ConnectionInfo, *, cancelled_status: str) -> None:
        self.connection = connection
        self.options = connection.options
        self.client = tryton_client(connection)
        self.cancelled_status = cancelled_status
        self.by_reference = self.options.get("matchField", "number") == "reference"
        self.label = f"Tryton {connection.url} database {self.options['database']}"
        self.final_statuses = frozenset(self.status(s) for s in FINAL_STATES)
        self.cancelled_statuses = frozenset({self.status("cancelled")})

    def status(self, state: str) -> str:
        return status_code(state, self.options, self.cancelled_status)

    def changed_orders(
        self,
        *,
        customer_numbers: Sequence[str],
        since: datetime.datetime | None,
        created_after: datetime.datetime | None,
        batch_size: int,
    ) -> Iterator[list[ErpOrder]]:
        # A sale we can match: with a reference (matchField reference), or with a number or a reference.
        domain: list[Any] = (
            [("reference", "!=", None)]
            if self.by_reference
            else [["OR", ("number", "!=", None), ("reference", "!=", None)]]
        )
        if since is not None:
            domain.append(["OR", ("write_date", ">=", _naive_utc(since)), ("create_date", ">=", _naive_utc(since))])
        elif created_after is not None:
            domain.append(("create_date", ">=", _naive_utc(created_after)))
        with tryton_errors(self.connection):
            for codes in chunks(customer_numbers, CUSTOMERS_PER_SEARCH):
                offset = 0
                while True:
                    sales = self.client.sales_search(
                        [("party.code", "in", codes), *domain], SALE_READ_FIELDS, offset, batch_size, [("id", "ASC")]
                    )
                    if not sales:
                        break
                    line_ids = [line_id for sale in sales for line_id in sale["lines"]]
                    lines = {
                        line["id"]: line
                        for line in (
                            self.client.call("model.sale.line.read", line_ids, list(LINE_READ_FIELDS))
                            if line_ids
                            else []
                        )
                    }
                    yield [self._order(sale, [lines[i] for i in sale["lines"] if i in lines]) for sale in sales]
                    if len(sales) < batch_size:
                        break
                    offset += len(sales)

    def orders_for(self, orders: Sequence[OrderKey]) -> list[ErpOrder]:
        wanted: dict[str, list[str]] = {"number": [], "reference": []}
        for order in orders:
            key = sale_key(
                options=self.options,
                web_order_number=order.web_order_number,
                erp_order_number=order.erp_order_number,
            )
            wanted[key.field].append(key.value)
        found: list[ErpOrder] = []
        with tryton_errors(self.connection):
            for field_name, values in wanted.items():
                for batch in chunks(values, NUMBERS_PER_SEARCH):
                    sales = self.client.sales_search([(field_name, "in", batch)], SALE_STATUS_FIELDS, 0, None, None)
                    found += [self._order(sale, None) for sale in sales]
        return found

    def _order(self, sale: dict[str, Any], lines: list[dict[str, Any]] | None) -> ErpOrder:
        state = str(sale["state"])
        number = sale.get("number") or None
        reference = sale.get("reference") or None
        values: dict[str, Any] = {}
        if lines is not None:
            created = sale.get("create_date")
            values = {
                "order_date": sale.get("sale_date") or sale.get("quotation_date") or (created and created.date()),
                "subtotal": sale.get("untaxed_amount"),
                "tax_amount": sale.get("tax_amount"),
                "total": sale.get("total_amount"),
            }
            currency = (sale.get("currency.") or {}).get("code")
            if currency:
                values["currency"] = currency
            values = {k: v for k, v in values.items() if v is not None}
        return ErpOrder(
            web_order_number=str(reference if self.by_reference else (reference or number)),
            erp_order_number=number,
            customer_number=str((sale.get("party.") or {}).get("code") or ""),
            status=self.status(state),
            erp_state=state,
            cancelled=state == "cancelled",
            **values,
            lines=None if lines is None else tuple(_order_lines(lines, state)),
        )


def tryton_order_source(connection: ConnectionInfo, cancelled_status: str, logger: JobLogger) -> TrytonOrderSource:
    """`ConnectionType.order_source` of the Tryton type."""
    return TrytonOrderSource(connection, cancelled_status=cancelled_status)


def _order_lines(lines: list[dict[str, Any]], state: str) -> list[ErpOrderLine]:
    result: list[ErpOrderLine] = []
    for line in lines:
        if line.get("type", "line") != "line":  # comments, titles, subtotals
            continue
        product = line.get("product.") or {}
        quantity = Decimal(str(line.get("quantity") or 0))
        progress = line.get("moves_progress")
        if progress is not None:
            shipped = quantity * Decimal(str(progress))
        else:  # services and lines without moves: shipped once the sale is done
            shipped = quantity if state == "done" else Decimal(0)
        result.append(
            ErpOrderLine(
                line_number=len(result) + 1,
                product_number=str(product.get("code") or "")[:100],
                description=str(line.get("description") or product.get("name") or "")[:500],
                quantity_ordered=quantity,
                quantity_shipped=shipped.quantize(Decimal("0.001")),
                unit_price=line.get("unit_price") or Decimal(0),
                line_total=line.get("amount") or Decimal(0),
            )
        )
    return result


def _naive_utc(moment: datetime.datetime) -> datetime.datetime:
    """Tryton keeps create_date/write_date as naive UTC."""
    if timezone.is_aware(moment):
        moment = moment.astimezone(datetime.UTC)
    return moment.replace(tzinfo=None)
