"""AcmeOrderCancel against a real (fake) Acme HTTP server on 127.0.0.1 — directly and through the engine."""

from __future__ import annotations

import pytest
from countermand_acme_erp import AcmeOrderCancel

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import order_cancel_request
from countermand.core.errors import ValidationFailed
from countermand.integration.models import IntegrationJob
from countermand.integration.processors.base import ErpRejected, TransientError
from countermand.integration.processors.registry import connection_type_get, processor_get
from tests.helpers import context_for, make_order, run_due_jobs

pytestmark = pytest.mark.django_db


def test_the_plugin_is_found_through_its_entry_point():
    assert processor_get("AcmeOrderCancel") is AcmeOrderCancel
    assert connection_type_get("AcmeErp").options_help["company"].startswith("Acme company code")


def test_an_acme_connection_needs_a_company():
    with pytest.raises(ValidationFailed, match='needs the option "company"'):
        connection_type_get("AcmeErp").clean_options({})


def test_an_open_order_is_cancelled_with_the_jobs_idempotency_key(acme, cancel_definition, buyer):
    acme.orders["E1001"] = "OPEN"
    context = context_for(cancel_definition, make_order(buyer, "E1001"))
    AcmeOrderCancel().execute(context)
    assert acme.orders["E1001"] == "CANCELLED"
    assert context.result == {"erpStatus": "", "erpReference": "CX-0001", "erpMessage": "Cancelled in Acme (CX-0001)."}
    (request,) = acme.requests
    assert request["headers"]["idempotency-key"] == context.idempotency_key
    assert request["body"]["requestedBy"] == "countermand"


def test_a_shipped_order_is_refused_with_acmes_message(acme, cancel_definition, buyer):
    acme.orders["E1002"] = "SHIPPED"
    with pytest.raises(ErpRejected, match=r"^Sales order E1002 has shipped\.$"):
        AcmeOrderCancel().execute(context_for(cancel_definition, make_order(buyer, "E1002")))


def test_an_order_already_cancelled_in_acme_counts_as_cancelled(acme, cancel_definition, buyer):
    acme.orders["E1003"] = "CANCELLED"
    context = context_for(cancel_definition, make_order(buyer, "E1003"))
    AcmeOrderCancel().execute(context)
    assert context.result["erpMessage"] == "Sales order E1003 is already cancelled."


def test_acme_unavailable_is_transient(acme, cancel_definition, buyer):
    acme.fail_next = [503]
    with pytest.raises(TransientError, match="HTTP 503"):
        AcmeOrderCancel().execute(context_for(cancel_definition, make_order(buyer, "E1004")))


def test_a_buyers_cancellation_goes_through_the_engine_and_survives_a_transient_failure(acme, cancel_definition, buyer):
    acme.orders["E1005"] = "OPEN"
    acme.fail_next = [503]
    order = make_order(buyer, "E1005")
    request = order_cancel_request(order=order, actor=buyer, channel="storefront", reason_code="Other")

    statuses = [finish.status for finish in run_due_jobs()]

    assert statuses == [IntegrationJob.Status.QUEUED, IntegrationJob.Status.SUCCESS]
    request.refresh_from_db()
    order.refresh_from_db()
    assert (request.state, request.erp_reference, order.status) == (
        CancellationRequest.State.CONFIRMED,
        "CX-0001",
        "Cancelled",
    )
    assert acme.effects["E1005"] == 1
    assert {r["headers"]["idempotency-key"] for r in acme.requests} == {request.idempotency_key}
