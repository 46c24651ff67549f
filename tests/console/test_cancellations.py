"""Sales > Cancellations: what needs attention (Failed, LocalOnly) first, LocalOnly flagged loudly,
Resend to ERP through cancellation_resend."""

from __future__ import annotations

import pytest
from django.urls import reverse

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import cancellation_fail, order_cancel_request
from countermand.integration.models import IntegrationJob, JobDefinition
from countermand.orders.policies import ADMIN, Actor
from tests.factories import JobDefinitionFactory, OrderFactory

pytestmark = pytest.mark.django_db
State = CancellationRequest.State
LIST = "admin:cancellations_cancellationrequest_changelist"
ADMIN_ACTOR = Actor(kind=ADMIN, may_cancel=True)


@pytest.fixture
def requests_in_every_state(shop):
    """A Requested, a Failed and a LocalOnly cancellation (the last made while no job definition existed)."""

    def cancel(number: str) -> CancellationRequest:
        order = OrderFactory(website=shop.website, customer=shop.customer, web_order_number=number)
        return order_cancel_request(order=order, actor=ADMIN_ACTOR, channel="admin", reason_code="Other")

    requested = cancel("W-REQ")
    failing = cancel("W-FAIL")
    IntegrationJob.objects.filter(pk=failing.job_id).update(status=IntegrationJob.Status.FAILURE)
    failed = cancellation_fail(request_id=failing.pk, error="ERP down for 2 hours")
    JobDefinition.objects.filter(name="OrderCancel").update(is_active=False)
    local = cancel("W-LOCAL")
    JobDefinition.objects.filter(name="OrderCancel").update(is_active=True)
    return {"requested": requested, "failed": failed, "local": local}


def listed(response) -> set[int]:
    return {r.pk for r in response.context["cl"].result_list}


def detail_url(request) -> str:
    return reverse("admin:cancellations_cancellationrequest_change", args=[request.pk])


def resend_url(request) -> str:
    return reverse("admin:cancellations_cancellationrequest_resend", args=[request.pk])


def test_the_list_shows_what_needs_attention_by_default(admin_client, requests_in_every_state):
    r = requests_in_every_state
    response = admin_client.get(reverse(LIST))
    assert listed(response) == {r["failed"].pk, r["local"].pk}
    html = response.content.decode()
    assert "Cancellations — needs attention" in html
    assert "2 cancellations need attention" in html


def test_all_and_a_chosen_state_show_the_others_too(admin_client, requests_in_every_state):
    r = requests_in_every_state
    assert listed(admin_client.get(reverse(LIST), {"attention": "all"})) == {v.pk for v in r.values()}
    assert listed(admin_client.get(reverse(LIST), {"state__exact": "Requested"})) == {r["requested"].pk}


def test_local_only_cancellations_are_flagged_not_sent_to_the_erp(admin_client, requests_in_every_state):
    local = requests_in_every_state["local"]
    html = admin_client.get(reverse(LIST)).content.decode()
    row = html[html.index(f'href="{detail_url(local)}"') - 400 :]
    assert "NOT sent to the ERP" in row[:3000]
    detail = admin_client.get(detail_url(local)).content.decode()
    assert 'id="not-sent-banner"' in detail
    assert "NOT sent to the ERP" in detail


def test_resend_sends_a_local_only_cancellation_to_the_erp_with_the_same_key(admin_client, requests_in_every_state):
    local = requests_in_every_state["local"]
    response = admin_client.post(resend_url(local), follow=True)
    local.refresh_from_db()
    assert local.state == State.REQUESTED
    assert local.job is not None
    assert local.job.idempotency_key == local.idempotency_key
    assert f"job #{local.job_id} queued" in response.content.decode()


def test_resend_without_a_job_definition_says_what_to_do(admin_client, requests_in_every_state):
    JobDefinition.objects.update(is_active=False)
    response = admin_client.post(resend_url(requests_in_every_state["failed"]), follow=True)
    assert response.status_code == 200
    assert "There is no active OrderCancel job definition" in response.content.decode()


def test_resend_is_a_list_action_that_reports_each_request(admin_client, requests_in_every_state):
    r = requests_in_every_state
    response = admin_client.post(
        reverse(LIST) + "?attention=all",
        {"action": "resend_to_erp", "_selected_action": [r["failed"].pk, r["requested"].pk]},
        follow=True,
    )
    html = response.content.decode()
    assert "resent to the ERP" in html
    assert "Only failed or local-only cancellations can be resent" in html
    r["failed"].refresh_from_db()
    assert r["failed"].state == State.REQUESTED


def test_detail_offers_resend_only_for_requests_needing_attention(admin_client, requests_in_every_state):
    assert "Resend to ERP" in admin_client.get(detail_url(requests_in_every_state["failed"])).content.decode()
    html = admin_client.get(detail_url(requests_in_every_state["requested"])).content.decode()
    assert "Resend to ERP</button>" not in html


def test_only_users_with_the_resend_permission_may_resend(
    reader_client, integration_client, order_client, requests_in_every_state
):
    failed = requests_in_every_state["failed"]
    assert reader_client.get(detail_url(failed)).status_code == 200
    assert reader_client.post(resend_url(failed)).status_code == 403
    assert integration_client.post(resend_url(failed)).status_code == 403
    assert order_client.post(resend_url(failed)).status_code == 302
    failed.refresh_from_db()
    assert failed.state == State.REQUESTED


def test_cancellations_are_never_edited_by_hand(admin_client, requests_in_every_state):
    failed = requests_in_every_state["failed"]
    assert admin_client.post(detail_url(failed), {"state": "Confirmed"}).status_code == 403
    failed.refresh_from_db()
    assert failed.state == State.FAILED


def test_important_banner_shows_on_the_cancellations_pages_while_the_job_is_missing(admin_client, shop):
    assert 'id="cancel-job-banner"' not in admin_client.get(reverse(LIST)).content.decode()
    JobDefinition.objects.all().delete()
    assert 'id="cancel-job-banner"' in admin_client.get(reverse(LIST)).content.decode()
    JobDefinitionFactory()
    assert 'id="cancel-job-banner"' not in admin_client.get(reverse(LIST)).content.decode()
