"""The Acme ERP connection type and its order-cancel processor.

Acme's API (the part we use):

``POST {url}/companies/{company}/sales-orders/{orderNumber}/cancel``
    headers ``X-Api-Key: <the connection's password>``, ``Idempotency-Key: <the job's key>``;
    body ``{"reason": ..., "comment": ..., "requestedBy": "countermand"}``.

    - 200 ``{"orderNumber": ..., "status": "CANCELLED", "cancellationId": "CX-…"}`` — cancelled;
    - 409 ``{"error": {"code": "ALREADY_CANCELLED" | "ORDER_SHIPPED" | …, "message": ...}}`` — refused
      (already cancelled counts as done: a retried delivery meets its own earlier effect);
    - 404 ``ORDER_NOT_FOUND``; 401/403 bad API key; 429 and 5xx — try again later.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from countermand.integration.plugin import (
    ConnectionType,
    ErpRejected,
    ParameterSpec,
    Processor,
    ProcessorContext,
    ProcessorResult,
    TransientError,
    ValidationFailed,
)

ACME_OPTIONS = {
    "company": "Acme company code the orders belong to (required), e.g. ACME-US.",
    "cancelledStatus": "Our ERP status code for a cancelled order (default: the CancelledStatus setting).",
}


def _validate_acme_options(options: dict[str, Any]) -> dict[str, Any]:
    company = options.get("company")
    if not isinstance(company, str) or not company.strip():
        raise ValidationFailed('An AcmeErp connection needs the option "company".', code="INVALID_CONNECTION_OPTIONS")
    status = options.get("cancelledStatus", "")
    if not isinstance(status, str) or len(status) > 50:
        raise ValidationFailed(
            "cancelledStatus must be text of at most 50 characters.", code="INVALID_CONNECTION_OPTIONS"
        )
    return {**options, "company": company.strip()}


ACME_ERP = ConnectionType(
    name="AcmeErp",
    description="The Acme ERP's REST API (API key in the password field).",
    options_help=ACME_OPTIONS,
    validate_options=_validate_acme_options,
)


class AcmeOrderCancel(Processor):
    """Cancels the order named by the job's order (ERP order number, else web order number) in Acme."""

    name = "AcmeOrderCancel"
    connection_types = ("AcmeErp",)
    # Checked when a job definition is saved: it must declare OrderNumber as a String parameter.
    parameters = (ParameterSpec("OrderNumber", required=True, description="The order to cancel in Acme."),)
    description = "Cancels an order in the Acme ERP."

    def execute(self, context: ProcessorContext) -> ProcessorResult:
        connection = context.connection
        if connection is None or connection.http is None:
            raise ValidationFailed("AcmeOrderCancel needs an AcmeErp connection on its job definition.")
        number = context.order.erp_or_web_number if context.order else str(context.parameters.get("OrderNumber", ""))
        if not number:
            raise ValidationFailed("AcmeOrderCancel needs an order or an OrderNumber parameter.")
        company = connection.options["company"]
        path = f"/companies/{quote(company, safe='')}/sales-orders/{quote(number, safe='')}/cancel"
        url = connection.url.rstrip("/") + path
        body = {
            "reason": context.data.get("reason", ""),
            "comment": context.data.get("note", ""),
            "requestedBy": "countermand",
        }
        # Never wait past the job's deadline; never log the API key.
        timeout = max(0.5, min(connection.timeout_seconds, context.seconds_left()))
        context.logger.info(f"Cancelling {number} in Acme company {company} (attempt {context.attempt}).")
        try:
            response = connection.http.post(
                url,
                json=body,
                headers={"X-Api-Key": connection.password, "Idempotency-Key": context.idempotency_key},
                auth=httpx.Auth(),  # the API key is the credential; no Basic auth from the shared client
                timeout=timeout,
            )
        except httpx.TimeoutException as exc:
            raise TransientError(f"Acme did not answer within {timeout:.1f} s") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"cannot reach Acme at {connection.url}: {exc}") from exc

        answer = _json(response)
        error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
        message = str(error.get("message") or "")
        if response.status_code == 200 or error.get("code") == "ALREADY_CANCELLED":
            context.logger.info(f"Acme answered HTTP {response.status_code}: {message or answer.get('status')}.")
            return ProcessorResult(
                erp_status=connection.options.get("cancelledStatus", ""),
                erp_reference=str(answer.get("cancellationId") or ""),
                erp_message=message or f"Cancelled in Acme ({answer.get('cancellationId')}).",
            )
        if response.status_code == 409:
            raise ErpRejected(message or "Acme refused the cancellation.")
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientError(f"Acme answered HTTP {response.status_code}")
        if response.status_code in (401, 403):
            raise RuntimeError("Acme refused the API key: check the connection's password.")
        raise RuntimeError(f"Acme answered HTTP {response.status_code} for {number}: {message or response.text[:200]}")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
