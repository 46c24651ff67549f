"""The public plugin API: the typed result and its job-row JSON, the read-only views, order sources."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal

import pytest

from countermand.core.errors import ValidationFailed
from countermand.integration.models import IntegrationJob, JobDefinition
from countermand.integration.plugin import (
    ErpRejected,
    OrderView,
    Processor,
    ProcessorContext,
    ProcessorKind,
    ProcessorResult,
)
from countermand.integration.registry import registry
from countermand.integration.services import job_enqueue
from countermand.integration.testing import processor_context, run_due_jobs
from tests.factories import ConnectionFactory, JobDefinitionFactory, OrderFactory, OrderLineFactory

Status = IntegrationJob.Status


def test_a_result_is_stored_under_the_job_rows_erp_keys_with_its_data_beside_them():
    result = ProcessorResult(erp_reference="R-1", erp_status="Cancelled", erp_message="done", data={"tries": 2})
    assert result.to_json() == {"erpReference": "R-1", "erpStatus": "Cancelled", "erpMessage": "done", "tries": 2}
    assert ProcessorResult.from_json(result.to_json()) == result


def test_what_a_result_does_not_report_is_left_out_of_the_json():
    assert ProcessorResult(data={"noop": True}).to_json() == {"noop": True}
    assert ProcessorResult(erp_status="").to_json() == {"erpStatus": ""}
    assert ProcessorResult.from_json(None) == ProcessorResult()


def test_a_rejection_is_read_back_from_the_json():
    stored = {"erpMessage": "shipped", "erpRejected": True, "erpReference": "SO1", "count": 3}
    assert ProcessorResult.from_json(stored) == ProcessorResult(
        erp_message="shipped", erp_reference="SO1", erp_rejected=True, data={"count": 3}
    )


def test_a_later_steps_result_replaces_only_what_it_reports():
    first = ProcessorResult(erp_reference="R-1", erp_message="sent", data={"a": 1, "b": 1})
    merged = first.merged(ProcessorResult(erp_message="confirmed", data={"b": 2}))
    assert merged == ProcessorResult(erp_reference="R-1", erp_message="confirmed", data={"a": 1, "b": 2})
    assert first.merged(None) is first


@pytest.mark.django_db
def test_the_context_holds_a_read_only_view_of_the_order_with_its_lines(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer, erp_order_number=None, customer_po="PO-7")
    OrderLineFactory(order=order, line_number=2, product_number="B")
    OrderLineFactory(order=order, line_number=1, product_number="A", quantity_ordered=Decimal(3))
    definition = JobDefinition.objects.get(name="OrderCancel")

    context = processor_context(definition, order=order, parameters={"OrderNumber": order.web_order_number})

    view = context.order
    assert isinstance(view, OrderView)
    assert (view.id, view.web_order_number, view.erp_or_web_number) == (
        order.pk,
        order.web_order_number,
        order.web_order_number,
    )
    assert (view.customer_number, view.website, view.status, view.customer_po) == (
        "C1000",
        "Main Store",
        "Submitted",
        "PO-7",
    )
    assert [(line.line_number, line.product_number) for line in view.lines] == [(1, "A"), (2, "B")]
    assert view.lines[0].quantity_ordered == Decimal(3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.status = "Cancelled"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        view.lines[0].quantity_shipped = Decimal(1)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.job.attempt = 2  # type: ignore[misc]
    assert (context.job.id, context.job.definition_name, context.attempt) == (
        IntegrationJob.objects.get().pk,
        "OrderCancel",
        1,
    )


class Tagger(Processor):
    name = "TestTagger"
    kind = ProcessorKind.PREPROCESSOR

    def execute(self, context: ProcessorContext) -> ProcessorResult:
        return ProcessorResult(erp_message="from the preprocessor", data={"tagged": context.order is None})


class Refuser(Processor):
    name = "TestRefuser"

    def execute(self, context: ProcessorContext) -> None:
        raise ErpRejected("the ERP says no", erp_reference="SO-9")


class Confirmer(Processor):
    name = "TestConfirmer"

    def execute(self, context: ProcessorContext) -> ProcessorResult:
        return ProcessorResult(erp_reference="SO-1", data={"confirmed": True})


class WrongReturn(Processor):
    name = "TestWrongReturn"

    def execute(self, context: ProcessorContext) -> dict:  # type: ignore[override]
        return {"erpStatus": "Cancelled"}


@pytest.fixture
def test_processors() -> Iterator[None]:
    processors = (Tagger, Refuser, Confirmer, WrongReturn)
    registry().add(list(processors), "test plugin")
    yield
    for proc in processors:
        registry().processors.pop(proc.name, None)


def run_job(integration_processor: str) -> IntegrationJob:
    definition = JobDefinitionFactory(
        name=integration_processor,
        connection=None,
        preprocessor="TestTagger",
        integration_processor=integration_processor,
        max_retries=0,
        order_number_parameter=False,
    )
    job = job_enqueue(definition=definition)
    run_due_jobs()
    job.refresh_from_db()
    return job


@pytest.mark.django_db
@pytest.mark.usefixtures("test_processors")
def test_the_steps_results_are_merged_into_the_job_rows_json():
    job = run_job("TestConfirmer")
    assert job.status == Status.SUCCESS
    assert job.result == {
        "tagged": True,
        "confirmed": True,
        "erpMessage": "from the preprocessor",
        "erpReference": "SO-1",
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("test_processors")
def test_a_refusal_keeps_the_earlier_steps_result_and_adds_the_erps_message_and_reference():
    job = run_job("TestRefuser")
    assert job.result == {
        "tagged": True,
        "erpMessage": "the ERP says no",
        "erpRejected": True,
        "erpReference": "SO-9",
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("test_processors")
def test_a_processor_that_returns_something_other_than_a_result_fails_the_attempt():
    job = run_job("TestWrongReturn")
    assert job.status == Status.FAILURE
    assert "returned dict, not a ProcessorResult" in job.error
    assert not job.result


@pytest.mark.django_db
def test_the_order_source_comes_from_the_connection_type(shop):
    web = JobDefinitionFactory(name="Web", connection=ConnectionFactory(type_name="WebService"))
    source = processor_context(web).order_source(cancelled_status="Cancelled")
    assert source.label == "the ERP at http://127.0.0.1:9/erp/orders"
    assert source.cancelled_statuses == frozenset({"Cancelled"})

    sandbox = JobDefinitionFactory(name="Sandboxed", connection=ConnectionFactory(type_name="Sandbox"))
    with pytest.raises(ValidationFailed, match="Sandbox cannot"):
        processor_context(sandbox).order_source(cancelled_status="Cancelled")
