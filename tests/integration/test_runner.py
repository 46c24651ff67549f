"""The pipeline and the OrderCancel outcome wiring, run in this process against a real HTTP fake ERP."""

from __future__ import annotations

import pytest
from django.core import mail

from countermand.cancellations.models import CancellationRequest
from countermand.integration.models import IntegrationJob, JobDefinition
from tests.integration.conftest import cancel, drain

State = CancellationRequest.State
Status = IntegrationJob.Status
pytestmark = pytest.mark.django_db


def test_a_confirmed_cancellation_sets_the_order_cancelled_and_tells_the_buyer(
    erp_shop, fake_erp, django_capture_on_commit_callbacks
):
    request = cancel(erp_shop)
    with django_capture_on_commit_callbacks(execute=True):
        drain()
    request.refresh_from_db()
    assert request.state == State.CONFIRMED
    assert request.erp_reference.startswith("FAKE-")
    assert request.order.status == "Cancelled"
    job = IntegrationJob.objects.get(pk=request.job_id)
    assert job.status == Status.SUCCESS
    assert job.attempt == 1
    assert fake_erp.deliveries[request.idempotency_key] == 1
    assert fake_erp.requests[0].headers["idempotency-key"] == request.idempotency_key
    assert [m.to for m in mail.outbox] == [[erp_shop.buyer.email]]
    assert "cancelled" in mail.outbox[0].subject


def test_a_refusal_denies_the_request_restores_the_previous_status_and_keeps_the_erp_message(
    erp_shop, fake_erp, django_capture_on_commit_callbacks
):
    request = cancel(erp_shop)
    fake_erp.refuse[request.order.erp_order_number] = "Order already shipped from warehouse 3."
    with django_capture_on_commit_callbacks(execute=True):
        drain()
    request.refresh_from_db()
    assert request.state == State.DENIED
    assert request.erp_message == "Order already shipped from warehouse 3."
    assert request.order.status == "Submitted"
    job = IntegrationJob.objects.get(pk=request.job_id)
    assert job.status == Status.SUCCESS_WITH_WARNINGS
    assert job.attempt == 1
    assert job.logs.filter(level="Warn", message__contains="warehouse 3").exists()
    assert len(mail.outbox) == 1
    assert "could not be cancelled" in mail.outbox[0].subject
    assert "warehouse 3" in mail.outbox[0].body


def test_transient_failures_are_retried_until_retries_run_out_then_the_request_fails_and_the_team_is_told(
    erp_shop, fake_erp, django_capture_on_commit_callbacks
):
    JobDefinition.objects.filter(name="OrderCancel").update(
        max_retries=2, notify_email="erp-team@example.com", notify_condition="Failure"
    )
    fake_erp.fail_status = 503
    request = cancel(erp_shop)
    with django_capture_on_commit_callbacks(execute=True):
        finishes = drain()
    assert [f.status for f in finishes] == [Status.QUEUED, Status.QUEUED, Status.FAILURE]
    request.refresh_from_db()
    assert request.state == State.FAILED
    assert "503" in request.erp_message
    assert request.order.status == "CancellationRequested"
    job = IntegrationJob.objects.get(pk=request.job_id)
    assert job.status == Status.FAILURE
    assert job.attempt == 3
    assert [m.to for m in mail.outbox] == [["erp-team@example.com"]]
    assert f"#{job.pk}: Failure" in mail.outbox[0].subject


def test_a_failed_request_resent_later_reaches_the_erp_with_the_same_key_and_has_one_effect(erp_shop, fake_erp):
    from countermand.integration.services import job_retry

    JobDefinition.objects.filter(name="OrderCancel").update(max_retries=0)
    fake_erp.fail_status = 503
    request = cancel(erp_shop)
    drain()
    request.refresh_from_db()
    assert request.state == State.FAILED
    fake_erp.fail_status = 0
    new_job = job_retry(job_id=request.job_id, actor_id=None)
    drain()
    request.refresh_from_db()
    assert request.state == State.CONFIRMED
    assert request.job_id == new_job.pk
    assert request.send_count == 2
    assert fake_erp.deliveries[request.idempotency_key] == 2
    assert fake_erp.effects[request.idempotency_key] == 1


def test_a_local_only_cancellation_resent_once_a_job_exists_is_confirmed(erp_shop, fake_erp):
    from countermand.cancellations.services import cancellation_resend
    from countermand.orders.policies import ADMIN, Actor

    JobDefinition.objects.filter(name="OrderCancel").update(is_active=False)
    request = cancel(erp_shop)
    assert request.state == State.LOCAL_ONLY
    JobDefinition.objects.filter(name="OrderCancel").update(is_active=True)
    cancellation_resend(request_id=request.pk, actor=Actor(kind=ADMIN))
    drain()
    request.refresh_from_db()
    assert request.state == State.CONFIRMED
    assert fake_erp.deliveries[request.idempotency_key] == 1


def test_a_slow_erp_times_out_within_the_job_timeout_and_the_retry_succeeds(erp_shop, fake_erp):
    JobDefinition.objects.filter(name="OrderCancel").update(timeout_seconds=1)
    fake_erp.delay_first_delivery = 2.5
    request = cancel(erp_shop)
    finishes = drain()
    assert [f.status for f in finishes] == [Status.QUEUED, Status.SUCCESS]
    job = IntegrationJob.objects.get(pk=request.job_id)
    assert job.logs.filter(message__contains="did not answer within").exists()
    request.refresh_from_db()
    assert request.state == State.CONFIRMED


def test_debug_lines_are_logged_only_when_the_definition_has_debugging_on(erp_shop, fake_erp):
    first = cancel(erp_shop)
    drain()
    assert not IntegrationJob.objects.get(pk=first.job_id).logs.filter(level="Debug").exists()
    JobDefinition.objects.filter(name="OrderCancel").update(debugging_enabled=True)
    second = cancel(erp_shop)
    drain()
    debug = IntegrationJob.objects.get(pk=second.job_id).logs.filter(level="Debug")
    assert debug.filter(message__startswith="request body").exists()


def test_the_log_tells_the_story_of_an_attempt_in_order(erp_shop, fake_erp):
    request = cancel(erp_shop)
    drain()
    logs = list(IntegrationJob.objects.get(pk=request.job_id).logs.values_list("sequence", "module_name", "message"))
    assert [s for s, _, _ in logs] == list(range(1, len(logs) + 1))
    assert logs[0][2].startswith("Attempt 1 of 4 started by worker test-worker")
    assert logs[1][1] == "WebServiceOrderCancel"
    assert logs[1][2].startswith("POST http://127.0.0.1")
    assert "HTTP 200" in logs[2][2]
    assert logs[-1][2] == f"Cancellation request {request.pk} confirmed."


def test_the_notify_e_mail_on_completion_goes_out_for_a_success(erp_shop, fake_erp, django_capture_on_commit_callbacks):
    JobDefinition.objects.filter(name="OrderCancel").update(
        notify_email="ops@example.com, erp@example.com", notify_condition="Completion"
    )
    request = cancel(erp_shop)
    with django_capture_on_commit_callbacks(execute=True):
        drain()
    team = [m for m in mail.outbox if "ops@example.com" in m.to]
    assert len(team) == 1
    assert team[0].to == ["ops@example.com", "erp@example.com"]
    assert team[0].subject == f"Job OrderCancel #{request.job_id}: Success"
    assert f"OrderNumber={request.order.erp_order_number}" in team[0].body


def test_no_notify_e_mail_on_failure_condition_when_the_job_succeeds(
    erp_shop, fake_erp, django_capture_on_commit_callbacks
):
    JobDefinition.objects.filter(name="OrderCancel").update(notify_email="ops@example.com", notify_condition="Failure")
    cancel(erp_shop)
    with django_capture_on_commit_callbacks(execute=True):
        drain()
    assert not [m for m in mail.outbox if "ops@example.com" in m.to]
