"""The OrderCancel handler: the cancellation domain's side of the engine's outcome port."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.utils import timezone
from prometheus_client import REGISTRY

from countermand.cancellations.handler import OrderCancelHandler
from countermand.cancellations.models import ORDER_CANCEL_HANDLER, CancellationRequest
from countermand.cancellations.services import order_cancel_request
from countermand.integration.handlers import JobFinished, JobOutcome, JobRef, handler_get
from countermand.integration.metrics import metrics_exposition
from countermand.integration.models import IntegrationJob
from tests.factories import OrderFactory

State = CancellationRequest.State


def request_cancel(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer, placed_by=shop.buyer)
    return order_cancel_request(order=order, actor=shop.actor, channel="storefront", reason_code="Other")


@pytest.mark.django_db
def test_the_cancellations_app_registers_the_order_cancel_handler_and_its_jobs_name_it(shop):
    assert isinstance(handler_get(ORDER_CANCEL_HANDLER), OrderCancelHandler)
    request = request_cancel(shop)
    assert request.job is not None
    assert request.job.handler == ORDER_CANCEL_HANDLER


@pytest.mark.django_db
def test_starting_marks_the_request_sent_and_hands_the_reason_to_the_processors(shop):
    request = request_cancel(shop)
    data = OrderCancelHandler().started(JobRef.of(request.job))
    request.refresh_from_db()
    assert request.state == State.SENT
    assert data == {"reason": "Other", "note": request.reason_text, "cancellation_request_id": request.pk}


@pytest.mark.django_db
def test_a_confirmation_counts_in_the_outcome_metric_once_committed(shop, django_capture_on_commit_callbacks):
    request = request_cancel(shop)
    before = REGISTRY.get_sample_value("countermand_cancellation_outcomes_total", {"outcome": "confirmed"}) or 0
    finished = JobFinished(
        job=JobRef.of(request.job), outcome=JobOutcome.SUCCEEDED, status="Success", result={"erpReference": "R-1"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        lines = OrderCancelHandler().finished(finished)
    request.refresh_from_db()
    assert request.state == State.CONFIRMED
    assert request.erp_reference == "R-1"
    assert [line.message for line in lines] == [f"Cancellation request {request.pk} confirmed."]
    after = REGISTRY.get_sample_value("countermand_cancellation_outcomes_total", {"outcome": "confirmed"})
    assert after == before + 1


@pytest.mark.django_db
def test_the_metrics_page_shows_cancellations_by_state_beside_the_engine_gauges(shop):
    request_cancel(shop)
    text = metrics_exposition().decode()
    assert 'countermand_cancellations{state="Requested"} 1.0' in text
    assert "countermand_queue_depth" in text


@pytest.mark.django_db
def test_the_migration_names_the_handler_of_jobs_queued_before_jobs_named_one(shop):
    """Rows from before the `handler` column: the data migration finds the jobs carrying a request."""
    migration = importlib.import_module("countermand.cancellations.migrations.0002_order_cancel_job_handler")
    carrying = request_cancel(shop).job
    plain = IntegrationJob.objects.create(
        definition=carrying.definition, order=carrying.order, idempotency_key="other", schedule_at=timezone.now()
    )
    IntegrationJob.objects.update(handler="")
    migration.mark_order_cancel_jobs(django_apps, None)
    assert IntegrationJob.objects.get(pk=carrying.pk).handler == ORDER_CANCEL_HANDLER
    assert IntegrationJob.objects.get(pk=plain.pk).handler == ""


@pytest.mark.django_db
def test_a_manual_run_of_the_order_cancel_definition_is_refused_pointing_to_cancel_order(shop):
    from countermand.integration.handlers import ManualRunRefused
    from countermand.integration.models import JobDefinition
    from countermand.integration.services import job_run

    order = OrderFactory(website=shop.website, customer=shop.customer, placed_by=shop.buyer)
    definition = JobDefinition.objects.get(name="OrderCancel")
    with pytest.raises(ManualRunRefused, match="Cancel Order") as refused:
        job_run(definition_id=definition.pk, parameters={"OrderNumber": order.web_order_number}, actor_id=None)
    assert refused.value.code == "MANUAL_RUN_REFUSED"
    assert refused.value.http_status == 409
    assert not IntegrationJob.objects.exists()
    assert not CancellationRequest.objects.exists()
    order.refresh_from_db()
    assert order.status == "Submitted"


@pytest.mark.django_db
def test_the_definition_refused_is_the_one_order_cancel_job_name_names(shop):
    from countermand.integration.handlers import ManualRunRefused
    from countermand.integration.models import JobDefinition
    from countermand.integration.services import job_run
    from countermand.settings.services import setting_set
    from tests.factories import JobDefinitionFactory

    erp_cancel = JobDefinitionFactory(name="ErpCancel")
    setting_set(name="OrderCancelJobName", value="ErpCancel")
    with pytest.raises(ManualRunRefused):
        job_run(definition_id=erp_cancel.pk, parameters={"OrderNumber": "W1"}, actor_id=None)
    old = JobDefinition.objects.get(name="OrderCancel")
    assert job_run(definition_id=old.pk, parameters={"OrderNumber": "W1"}, actor_id=None).handler == ""
