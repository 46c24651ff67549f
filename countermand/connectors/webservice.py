"""The `WebService` connection type and its order-cancel processor: any ERP with an HTTP JSON API."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import httpx

from countermand.connectors.webservice_customers import webservice_customer_source
from countermand.connectors.webservice_refresh import webservice_order_source
from countermand.integration.plugin import (
    CANCEL_LINES_PARAMETER,
    CANCELLED_LINES_KEY,
    ConfigurationError,
    ConnectionType,
    ErpRejected,
    ParameterSpec,
    Processor,
    ProcessorContext,
    ProcessorResult,
    TransientError,
    ValidationFailed,
    cancel_lines,
)

DEFAULT_CANCEL_PATH = "/orders/{OrderNumber}/cancel"
DEFAULT_CANCEL_BODY = {"orderNumber": "{OrderNumber}", "reason": "{Reason}", "note": "{Note}"}
# A partial cancellation's default body: the same, and the lines (`{Lines}`: the JSON list itself).
DEFAULT_PARTIAL_CANCEL_BODY = {**DEFAULT_CANCEL_BODY, "lines": "{Lines}"}
# Template strings that are exactly this become the list of lines, [{"lineNumber": 2, "quantity": "2"}]:
# a JSON value, not text. `{LinesJson}` inside a longer string is the same list as JSON text.
LINES_PLACEHOLDER = "{Lines}"
LINE_PLACEHOLDERS = ("{Lines}", "{LinesJson}")
WEBSERVICE_OPTIONS = {
    "cancelMethod": "HTTP method of the cancel call (default POST).",
    "cancelPath": f"Path template appended to the URL (default {DEFAULT_CANCEL_PATH}).",
    "cancelBody": "JSON body template; {Placeholders} are job parameters, Reason, Note, IdempotencyKey, "
    "WebOrderNumber, ErpOrderNumber, and for a partial cancellation Lines (a string that is exactly "
    '"{Lines}" becomes the list [{"lineNumber": 2, "quantity": "2"}]), LinesJson (that list as text) and '
    "IsPartial (true/false). A partial cancellation is refused unless the body or path names Lines or LinesJson.",
    "linesField": "Field of the ERP's JSON answer listing what it cancelled, [{lineNumber, quantity}] "
    "(default lines; optional: without it the asked lines stand).",
    "rejectStatusCodes": "HTTP statuses meaning the ERP refused (default [409, 422]).",
    "messageField": "Field of the ERP's JSON answer holding its message (default message).",
    "statusField": "Field of the ERP's JSON answer holding the order's new ERP status (default status).",
    "referenceField": "Field of the ERP's JSON answer holding its reference (default reference).",
    "headers": "Extra HTTP headers (object).",
    "refreshPath": "Path of the order list used by the order history refresh (default /orders).",
    "customerRefreshPath": "Path of the customer list used by the customer refresh (default /customers).",
}


def _validate_webservice_options(options: dict[str, Any]) -> dict[str, Any]:
    method = str(options.get("cancelMethod", "POST")).upper()
    if method not in {"POST", "PUT", "PATCH", "DELETE"}:
        raise ValidationFailed(
            f"cancelMethod must be POST, PUT, PATCH or DELETE, not {method!r}.", code="INVALID_CONNECTION_OPTIONS"
        )
    codes = options.get("rejectStatusCodes", [409, 422])
    if not isinstance(codes, list) or not all(isinstance(c, int) and 400 <= c < 500 for c in codes):
        raise ValidationFailed(
            "rejectStatusCodes must be a list of 4xx status codes, e.g. [409, 422].", code="INVALID_CONNECTION_OPTIONS"
        )
    if "cancelBody" in options and not isinstance(options["cancelBody"], dict | list):
        raise ValidationFailed("cancelBody must be a JSON object or list.", code="INVALID_CONNECTION_OPTIONS")
    if "headers" in options and not isinstance(options["headers"], dict):
        raise ValidationFailed("headers must be a JSON object.", code="INVALID_CONNECTION_OPTIONS")
    return options


WEBSERVICE = ConnectionType(
    name="WebService",
    description="An ERP with an HTTP JSON API.",
    options_help=WEBSERVICE_OPTIONS,
    validate_options=_validate_webservice_options,
    order_source=webservice_order_source,
    customer_source=webservice_customer_source,
)
SANDBOX_OPTIONS = {
    **WEBSERVICE_OPTIONS,
    "sandboxShippedOrders": "Order numbers the Sandbox ERP considers shipped: it refuses to cancel them (list).",
    "sandboxFailStatus": "Answer every call with this HTTP status, e.g. 503 to simulate an outage (0: off).",
    "sandboxDelaySeconds": "Answer every call this many seconds late, e.g. to trigger timeouts (0: off).",
}


def _validate_sandbox_options(options: dict[str, Any]) -> dict[str, Any]:
    options = _validate_webservice_options(options)
    shipped = options.get("sandboxShippedOrders", [])
    if not isinstance(shipped, list) or not all(isinstance(n, str) for n in shipped):
        raise ValidationFailed(
            "sandboxShippedOrders must be a list of order numbers.", code="INVALID_CONNECTION_OPTIONS"
        )
    fail = options.get("sandboxFailStatus", 0)
    if not isinstance(fail, int) or isinstance(fail, bool) or (fail and not 400 <= fail <= 599):
        raise ValidationFailed(
            "sandboxFailStatus must be 0 (off) or an HTTP error status such as 503.", code="INVALID_CONNECTION_OPTIONS"
        )
    delay = options.get("sandboxDelaySeconds", 0)
    if not isinstance(delay, int | float) or isinstance(delay, bool) or not 0 <= delay <= 120:
        raise ValidationFailed(
            "sandboxDelaySeconds must be a number of seconds between 0 and 120.", code="INVALID_CONNECTION_OPTIONS"
        )
    return options


SANDBOX = ConnectionType(
    name="Sandbox",
    description="The Sandbox ERP served by Countermand itself (/sandbox-erp), for the demo and for trying the "
    "product: confirms cancellations, refuses shipped orders, and can be told to fail or be slow.",
    options_help=SANDBOX_OPTIONS,
    validate_options=_validate_sandbox_options,
    suggested_url="/sandbox-erp",  # served by Countermand itself (countermand.sandbox_erp)
    customer_source=webservice_customer_source,  # GET /sandbox-erp/customers
)


class _Placeholders(dict):
    def __missing__(self, key: str) -> str:
        return ""


def render_template(template: Any, values: dict[str, str], *, lines: list[dict[str, Any]] | None = None) -> Any:
    """Fill {Placeholders} in every string of a JSON template; unknown placeholders become empty. A string
    that is exactly `{Lines}` becomes `lines` (the partial cancellation's lines; [] for a whole order)."""
    if isinstance(template, str):
        if template == LINES_PLACEHOLDER:
            return list(lines or [])
        return template.format_map(_Placeholders(values))
    if isinstance(template, dict):
        return {k: render_template(v, values, lines=lines) for k, v in template.items()}
    if isinstance(template, list):
        return [render_template(v, values, lines=lines) for v in template]
    return template


def _names_lines(template: Any) -> bool:
    """Whether a body or path template renders the lines anywhere."""
    if isinstance(template, str):
        return any(placeholder in template for placeholder in LINE_PLACEHOLDERS)
    if isinstance(template, dict):
        return any(_names_lines(v) for v in template.values())
    if isinstance(template, list):
        return any(_names_lines(v) for v in template)
    return False


def template_values(context: ProcessorContext) -> dict[str, str]:
    values = {k: "" if v is None else str(v) for k, v in context.parameters.items()}
    values["IdempotencyKey"] = context.idempotency_key
    values.setdefault("Reason", str(context.data.get("reason", "")))
    values.setdefault("Note", str(context.data.get("note", "")))
    if context.order is not None:
        values.setdefault("WebOrderNumber", context.order.web_order_number)
        values.setdefault("ErpOrderNumber", context.order.erp_order_number or "")
    lines = cancel_lines(context)
    values["LinesJson"] = json.dumps([line.as_json() for line in lines])
    values["IsPartial"] = "true" if lines else "false"
    return values


class WebServiceOrderCancel(Processor):
    """Tells an HTTP JSON ERP to cancel the order named by the `OrderNumber` parameter — or, with a
    `CancelLines` parameter, those quantities of those lines (the body renders them: `{Lines}`).

    Sends the job's idempotency key as the `Idempotency-Key` header. 2xx: confirmed (the answer's
    status field, when present, becomes the order status); 409/422 (configurable): refused, with the
    ERP's message; 401/403: the log-on was refused (`ConfigurationError`, not retried); 408/429/5xx, timeouts
    and connection errors: transient.
    """

    name = "WebServiceOrderCancel"
    connection_types = ("WebService", "Sandbox")
    parameters = (
        ParameterSpec("OrderNumber", description="The order number the ERP knows the order by."),
        ParameterSpec(
            CANCEL_LINES_PARAMETER,
            description="Partial cancellation: the lines to cancel as JSON [{lineNumber, quantity}]; empty: the "
            "whole order. Set by the cancellation service.",
        ),
    )
    description = "Cancels an order (or some of its lines) through an HTTP JSON API."

    def execute(self, context: ProcessorContext) -> ProcessorResult:
        conn = context.connection
        if conn is None or conn.http is None:
            raise ValidationFailed("WebServiceOrderCancel needs a WebService connection on its job definition.")
        opts = conn.options
        values = template_values(context)
        lines = [line.as_json() for line in cancel_lines(context)]
        path_template = str(opts.get("cancelPath", DEFAULT_CANCEL_PATH))
        body_template = opts.get("cancelBody", DEFAULT_PARTIAL_CANCEL_BODY if lines else DEFAULT_CANCEL_BODY)
        if lines and not (_names_lines(body_template) or _names_lines(path_template)):
            # Sending it anyway would have the ERP cancel the whole order.
            raise ValidationFailed(
                f"This is a partial cancellation (lines {', '.join(str(line['lineNumber']) for line in lines)}) but "
                f'the connection {conn.name}\'s cancelBody does not render the lines: add "lines": "{{Lines}}".'
            )
        quoted = {k: quote(v, safe="") for k, v in values.items()}
        path = path_template.format_map(_Placeholders(quoted))
        url = conn.url.rstrip("/") + "/" + path.lstrip("/")
        body = render_template(body_template, values, lines=lines)
        method = str(opts.get("cancelMethod", "POST")).upper()
        headers = {"Idempotency-Key": context.idempotency_key, **opts.get("headers", {})}
        timeout = max(0.5, min(float(conn.timeout_seconds), context.seconds_left()))
        context.logger.info(f"{method} {url} (attempt {context.attempt})")
        context.logger.debug(f"request body: {json.dumps(body)}")
        try:
            response = conn.http.request(method, url, json=body, headers=headers, timeout=timeout)
        except httpx.TimeoutException as exc:
            raise TransientError(f"the ERP did not answer within {timeout:.1f} s ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"cannot reach the ERP at {url}: {exc}") from exc
        answer = _json_or_empty(response)
        message = str(answer.get(opts.get("messageField", "message"), "") or "") or response.text[:500]
        context.logger.info(f"ERP answered HTTP {response.status_code}: {message[:200]}")
        if response.is_success:
            reported = answer.get(opts.get("linesField", "lines")) if lines else None
            return ProcessorResult(
                erp_status=str(answer.get(opts.get("statusField", "status"), "") or ""),
                erp_reference=str(answer.get(opts.get("referenceField", "reference"), "") or ""),
                erp_message=message if answer else "",
                # What the ERP says it cancelled wins over what was asked (when it says it in our shape).
                data={CANCELLED_LINES_KEY: reported} if _lines_shaped(reported) else {},
            )
        if response.status_code in opts.get("rejectStatusCodes", [409, 422]):
            raise ErpRejected(
                message or f"the ERP refused the cancellation (HTTP {response.status_code})",
                erp_reference=str(answer.get(opts.get("referenceField", "reference"), "") or ""),
                erp_status=str(answer.get(opts.get("statusField", "status"), "") or ""),
            )
        if response.status_code in (401, 403):
            raise ConfigurationError.logon_refused(f"HTTP {response.status_code} from {conn.url}")
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise TransientError(f"the ERP answered HTTP {response.status_code}: {message[:200]}")
        raise RuntimeError(
            f"the ERP answered HTTP {response.status_code} to {method} {url}: {message[:200]} — "
            "check the connection's URL, log-on and cancelPath"
        )


def _json_or_empty(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _lines_shaped(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, dict) and "lineNumber" in item and "quantity" in item for item in value
    )
