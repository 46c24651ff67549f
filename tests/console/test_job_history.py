"""Administration > Jobs > Job History: filter and search, parameters and the level-coloured log,
Retry and Cancel through job_retry / job_cancel."""

from __future__ import annotations

import pytest
from django.urls import reverse

from countermand.integration.models import IntegrationJob, IntegrationJobLog
from countermand.integration.services import job_enqueue
from tests.factories import JobDefinitionFactory, OrderFactory

pytestmark = pytest.mark.django_db
Status = IntegrationJob.Status
LIST = "admin:integration_integrationjob_changelist"


@pytest.fixture
def definition():
    return JobDefinitionFactory(
        name="Report", integration_processor="NoOp", connection=None, order_number_parameter=False
    )


def queued(definition, order=None) -> IntegrationJob:
    return job_enqueue(definition=definition, order=order)


def finished(definition, status: str, order=None) -> IntegrationJob:
    job = queued(definition, order)
    IntegrationJob.objects.filter(pk=job.pk).update(status=status, error="the ERP was down")
    job.refresh_from_db()
    return job


def job_url(job) -> str:
    return reverse("admin:integration_integrationjob_change", args=[job.pk])


def listed_ids(response) -> set[int]:
    return {job.pk for job in response.context["cl"].result_list}


def test_list_filters_by_status_and_definition(admin_client, definition):
    other = JobDefinitionFactory(
        name="Other", integration_processor="NoOp", connection=None, order_number_parameter=False
    )
    failed = finished(definition, Status.FAILURE)
    open_job = queued(definition)
    elsewhere = queued(other)
    assert listed_ids(admin_client.get(reverse(LIST), {"status__exact": "Failure"})) == {failed.pk}
    assert listed_ids(admin_client.get(reverse(LIST), {"definition__id__exact": definition.pk})) == {
        failed.pk,
        open_job.pk,
    }
    assert elsewhere.pk in listed_ids(admin_client.get(reverse(LIST)))


def test_search_by_job_number_and_by_order_number(admin_client, definition):
    order = OrderFactory(web_order_number="W-42", erp_order_number="E-42")
    with_order = queued(definition, order)
    plain = queued(definition)
    assert listed_ids(admin_client.get(reverse(LIST), {"q": str(plain.pk)})) == {plain.pk}
    assert listed_ids(admin_client.get(reverse(LIST), {"q": f"#{plain.pk}"})) == {plain.pk}
    assert listed_ids(admin_client.get(reverse(LIST), {"q": "W-42"})) == {with_order.pk}
    assert listed_ids(admin_client.get(reverse(LIST), {"q": "E-42"})) == {with_order.pk}


def test_detail_shows_parameters_and_log_lines_coloured_by_level(admin_client):
    definition = JobDefinitionFactory()
    job = job_enqueue(definition=definition, parameters={"OrderNumber": "E-77"})
    for sequence, (level, message) in enumerate(
        [("Info", "POST to the ERP"), ("Warn", "slow answer"), ("Error", "HTTP 503"), ("Fatal", "gave up")], start=1
    ):
        IntegrationJobLog.objects.create(job=job, sequence=sequence, level=level, message=message)
    html = admin_client.get(job_url(job)).content.decode()
    params = html[html.index('id="job-parameters"') :]
    assert "OrderNumber" in params
    assert "E-77" in params
    log = html[html.index('id="job-log"') :]
    for level, message in (
        ("Info", "POST to the ERP"),
        ("Warn", "slow answer"),
        ("Error", "HTTP 503"),
        ("Fatal", "gave up"),
    ):
        row = log[log.index(f'class="log-{level}"') :]
        assert message in row[: row.index("</tr>")]


def test_retry_runs_a_failed_job_again_as_a_new_job(admin_client, definition):
    failed = finished(definition, Status.FAILURE)
    response = admin_client.post(reverse("admin:integration_integrationjob_retry", args=[failed.pk]), follow=True)
    new_job = IntegrationJob.objects.get(retry_of=failed)
    assert new_job.status == Status.QUEUED
    assert f"Job #{failed.pk} retried as job #{new_job.pk}." in response.content.decode()
    assert response.redirect_chain[-1][0] == job_url(new_job)


def test_retry_of_a_job_that_has_not_failed_says_why(admin_client, definition):
    job = queued(definition)
    response = admin_client.post(reverse("admin:integration_integrationjob_retry", args=[job.pk]), follow=True)
    assert response.status_code == 200
    assert "only failed or cancelled jobs can be retried" in response.content.decode()


def test_cancel_stops_a_queued_job(admin_client, definition):
    job = queued(definition)
    response = admin_client.post(reverse("admin:integration_integrationjob_cancel", args=[job.pk]), follow=True)
    job.refresh_from_db()
    assert job.status == Status.CANCELLED
    assert f"Job #{job.pk} cancelled." in response.content.decode()


def test_cancel_of_a_finished_job_says_it_has_finished(admin_client, definition):
    job = finished(definition, Status.SUCCESS)
    response = admin_client.post(reverse("admin:integration_integrationjob_cancel", args=[job.pk]), follow=True)
    assert response.status_code == 200
    assert "has already finished" in response.content.decode()


def test_detail_offers_retry_for_failed_and_cancel_for_open_jobs(admin_client, definition):
    failed_html = admin_client.get(job_url(finished(definition, Status.FAILURE))).content.decode()
    assert ">Retry<" in failed_html
    assert ">Cancel<" not in failed_html
    open_html = admin_client.get(job_url(queued(definition))).content.decode()
    assert ">Cancel<" in open_html
    assert ">Retry<" not in open_html


def test_retry_and_cancel_are_list_actions_too(admin_client, definition):
    failed = finished(definition, Status.FAILURE)
    open_job = queued(definition)
    admin_client.post(reverse(LIST), {"action": "retry_jobs", "_selected_action": [failed.pk]})
    admin_client.post(reverse(LIST), {"action": "cancel_jobs", "_selected_action": [open_job.pk]})
    assert IntegrationJob.objects.filter(retry_of=failed).exists()
    open_job.refresh_from_db()
    assert open_job.status == Status.CANCELLED


def test_jobs_are_never_edited_or_added_by_hand(admin_client, definition):
    job = queued(definition)
    assert admin_client.post(job_url(job), {"status": "Success"}).status_code == 403
    assert admin_client.get(reverse("admin:integration_integrationjob_add")).status_code == 403


def test_only_integration_admins_retry_and_cancel(reader_client, order_client, integration_client, definition):
    job = queued(definition)
    cancel = reverse("admin:integration_integrationjob_cancel", args=[job.pk])
    assert reader_client.get(job_url(job)).status_code == 200
    assert reader_client.post(cancel).status_code == 403
    assert order_client.post(cancel).status_code == 403
    assert integration_client.post(cancel).status_code == 302
    job.refresh_from_db()
    assert job.status == Status.CANCELLED


def test_the_log_comes_before_the_runs_fields_and_the_bookkeeping_is_folded_away(admin_client):
    job = job_enqueue(definition=JobDefinitionFactory(), parameters={"OrderNumber": "E-78"})
    IntegrationJobLog.objects.create(job=job, sequence=1, level="Info", message="POST to the ERP")
    html = admin_client.get(job_url(job)).content.decode()
    log = html.index('id="job-log"')
    assert log < html.index('id="job-parameters"') < html.index("field-status_column")
    more = html[html.index("More about this run") - 400 :]
    assert "collapse" in more[:400]
    assert "field-lease_owner" in more


def test_cancel_requested_no_is_a_plain_word_not_a_red_error_icon(admin_client):
    job = job_enqueue(definition=JobDefinitionFactory(), parameters={"OrderNumber": "E-79"})
    html = admin_client.get(job_url(job)).content.decode()
    field = html[html.index("field-cancel_requested_column") :]
    field = field[: field.index("</div>", field.index('class="readonly"'))]
    assert field.endswith('<div class="readonly">No')
    assert "icon-no" not in html
    assert "No log lines yet" in html
