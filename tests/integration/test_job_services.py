"""The public job services the Admin Console and the REST API call: run, cancel, retry."""

from __future__ import annotations

import pytest

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import order_cancel_request
from countermand.core.errors import NotFound
from countermand.integration.models import IntegrationJob, JobDefinitionParameter
from countermand.integration.services import (
    JobFinished,
    JobNotRetryable,
    JobParameterError,
    job_cancel,
    job_retry,
    job_run,
)
from tests.factories import JobDefinitionFactory, OrderFactory, StaffFactory

Status = IntegrationJob.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def report_definition():
    definition = JobDefinitionFactory(
        name="Report", integration_processor="NoOp", connection=None, order_number_parameter=False
    )
    JobDefinitionParameter.objects.create(job_definition=definition, name="Days", value_type="Number", sequence=1)
    JobDefinitionParameter.objects.create(
        job_definition=definition, name="Verbose", value_type="Boolean", default_value="false", sequence=2
    )
    return definition


def test_job_run_queues_a_job_with_validated_parameters_and_its_own_idempotency_key(report_definition):
    admin = StaffFactory()
    job = job_run(definition_id=report_definition.pk, parameters={"Days": "7"}, actor_id=admin.pk)
    assert job.status == Status.QUEUED
    assert {p.name: p.value for p in job.parameters.all()} == {"Days": "7", "Verbose": "false"}
    assert job.idempotency_key.startswith("job-")
    assert job.requested_by_id == admin.pk
    assert job.logs.get().message == f"Queued by {admin.username}."


def test_job_run_refuses_a_value_of_the_wrong_type_and_queues_nothing(report_definition):
    with pytest.raises(JobParameterError) as exc:
        job_run(definition_id=report_definition.pk, parameters={"Days": "a week"}, actor_id=None)
    assert exc.value.code == "INVALID_JOB_PARAMETER"
    assert not IntegrationJob.objects.exists()


def test_job_run_of_an_unknown_definition_is_not_found():
    with pytest.raises(NotFound):
        job_run(definition_id=999999, parameters={}, actor_id=None)


def test_job_cancel_of_a_queued_job_cancels_it_now(report_definition):
    job = job_run(definition_id=report_definition.pk, parameters={"Days": "1"}, actor_id=None)
    job = job_cancel(job_id=job.pk, actor_id=None)
    assert job.status == Status.CANCELLED
    assert job.finished_at is not None


def test_job_cancel_of_a_running_job_only_requests_it(report_definition):
    job = job_run(definition_id=report_definition.pk, parameters={"Days": "1"}, actor_id=None)
    IntegrationJob.objects.filter(pk=job.pk).update(status=Status.IN_PROCESS, attempt=1)
    job = job_cancel(job_id=job.pk, actor_id=None)
    assert job.status == Status.IN_PROCESS
    assert job.cancel_requested


def test_job_cancel_of_a_finished_job_raises_job_finished(report_definition):
    job = job_run(definition_id=report_definition.pk, parameters={"Days": "1"}, actor_id=None)
    IntegrationJob.objects.filter(pk=job.pk).update(status=Status.SUCCESS)
    with pytest.raises(JobFinished) as exc:
        job_cancel(job_id=job.pk, actor_id=None)
    assert exc.value.code == "JOB_FINISHED"


def test_job_retry_queues_a_new_job_with_the_same_parameters_and_key(report_definition):
    job = job_run(definition_id=report_definition.pk, parameters={"Days": "3"}, actor_id=None)
    IntegrationJob.objects.filter(pk=job.pk).update(status=Status.FAILURE)
    new = job_retry(job_id=job.pk, actor_id=None)
    assert new.pk != job.pk
    assert new.retry_of_id == job.pk
    assert new.status == Status.QUEUED
    assert new.idempotency_key == job.idempotency_key
    assert {p.name: p.value for p in new.parameters.all()}["Days"] == "3"


def test_job_retry_refuses_a_job_that_did_not_fail(report_definition):
    job = job_run(definition_id=report_definition.pk, parameters={"Days": "3"}, actor_id=None)
    with pytest.raises(JobNotRetryable):
        job_retry(job_id=job.pk, actor_id=None)


def test_cancelling_an_order_cancel_job_leaves_the_request_failed_and_retry_resends_it_with_the_same_key(shop):
    order = OrderFactory(website=shop.website, customer=shop.customer)
    request = order_cancel_request(order=order, actor=shop.actor, channel="storefront", reason_code="Other")
    job_cancel(job_id=request.job_id, actor_id=None)
    request.refresh_from_db()
    assert request.state == CancellationRequest.State.FAILED
    new = job_retry(job_id=request.job_id, actor_id=StaffFactory().pk)
    request.refresh_from_db()
    assert request.state == CancellationRequest.State.REQUESTED
    assert request.job_id == new.pk
    assert new.retry_of_id != new.pk
    assert new.idempotency_key == request.idempotency_key
    assert new.order_id == order.pk
