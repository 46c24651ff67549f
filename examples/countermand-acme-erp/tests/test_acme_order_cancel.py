"""AcmeOrderCancel against a real (fake) Acme HTTP server on 127.0.0.1 — directly and through the engine."""

from __future__ import annotations

import pytest
from countermand_acme_erp import AcmeOrderCancel

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import order_cancel_request
from countermand.integration.models import IntegrationJob
from countermand.integration.plugin import ErpRejected, ProcessorResult, TransientError, ValidationFailed
from countermand.integration.services import job_definition_save
from countermand.integration.testing import (
    installed_connection_type,
    installed_processor,
    processor_context,
    run_due_jobs,
)

pytestmark = pytest.mark.django_db


def test_the_plugin_is_found_through_its_entry_point():
    assert installed_processor("AcmeOrderCancel") is AcmeOrderCancel
    assert installed_connection_type("AcmeErp").options_help["company"].startswith("Acme company code")


def test_an_acme_connection_needs_a_company():
    with pytest.raises(ValidationFailed, match='needs the option "company"'):
        installed_connection_type("AcmeErp").clean_options({})


def test_a_job_definition_running_acme_order_cancel_must_declare_the_order_number_parameter(cancel_definition):
    with pytest.raises(ValidationFailed, match="AcmeOrderCancel needs a parameter OrderNumber of type String"):
        job_definition_save(definition=cancel_definition, parameters=[])  # the definition without OrderNumber


def test_an_open_order_is_cancelled_with_the_jobs_idempotency_key(acme, cancel_definition, make_order):
    acme.orders["E1001"] = "OPEN"
    context = processor_context(
        cancel_definition, order=make_order("E1001"), data={"reason": "Other", "note": "ordered twice"}
    )
    result = AcmeOrderCancel().execute(context)
    assert acme.orders["E1001"] == "CANCELLED"
    assert result == ProcessorResult(erp_status="", erp_reference="CX-0001", erp_message="Cancelled in Acme (CX-0001).")
    (request,) = acme.requests
    assert request.headers["idempotency-key"] == context.idempotency_key
    assert request.body == {"reason": "Other", "comment": "ordered twice", "requestedBy": "countermand"}


def test_a_shipped_order_is_refused_with_acmes_message(acme, cancel_definition, make_order):
    acme.orders["E1002"] = "SHIPPED"
    with pytest.raises(ErpRejected, match=r"^Sales order E1002 has shipped\.$"):
        AcmeOrderCancel().execute(processor_context(cancel_definition, order=make_order("E1002")))


def test_an_order_already_cancelled_in_acme_counts_as_cancelled(acme, cancel_definition, make_order):
    acme.orders["E1003"] = "CANCELLED"
    result = AcmeOrderCancel().execute(processor_context(cancel_definition, order=make_order("E1003")))
    assert result.erp_message == "Sales order E1003 is already cancelled."


def test_acme_unavailable_is_transient(acme, cancel_definition, make_order):
    acme.fail_next = [503]
    with pytest.raises(TransientError, match="HTTP 503"):
        AcmeOrderCancel().execute(processor_context(cancel_definition, order=make_order("E1004")))


def test_a_buyers_cancellation_goes_through_the_engine_and_survives_a_transient_failure(
    acme, cancel_definition, buyer, make_order
):
    acme.orders["E1005"] = "OPEN"
    acme.fail_next = [503]
    order = make_order("E1005")
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
    assert {r.headers["idempotency-key"] for r in acme.requests} == {request.idempotency_key}
