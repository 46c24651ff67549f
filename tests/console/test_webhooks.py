"""Administration > Jobs > Webhook Subscriptions and Webhook Deliveries: a write-only secret (generated and shown
once when left empty), Send test event to a real receiver, the banner of auto-disabled subscriptions, the
delivery history with its attempts, and Redeliver."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from countermand.integration.models import IntegrationJob
from countermand.webhooks.models import WebhookDelivery, WebhookSubscription
from countermand.webhooks.services import subscription_test_send
from countermand.webhooks.signing import secret_generate
from tests.integration.conftest import drain
from tests.webhooks.conftest import subscribe

pytestmark = pytest.mark.django_db

ADD = "admin:webhooks_webhooksubscription_add"


def form_data(url: str, **overrides):
    data = {
        "url": url,
        "description": "CRM",
        "event_types": ["cancellation.requested", "cancellation.confirmed"],
        "website": "",
        "is_active": "on",
        "secret": "",
    }
    data.update(overrides)
    return data


def change_url(subscription) -> str:
    return reverse("admin:webhooks_webhooksubscription_change", args=[subscription.pk])


def test_a_subscription_left_without_a_secret_gets_one_shown_once(admin_client):
    response = admin_client.post(reverse(ADD), form_data("https://crm.example.com/hooks"), follow=True)
    assert response.status_code == 200
    subscription = WebhookSubscription.objects.get()
    secret = subscription.secrets(now=timezone.now())[0]
    assert secret.startswith("whsec_")
    assert secret in response.content.decode()  # the one time it is shown
    again = admin_client.get(change_url(subscription)).content.decode()
    assert secret not in again
    assert "Set (hidden)" in again


def test_a_bad_secret_url_or_event_type_is_shown_on_the_form(admin_client):
    response = admin_client.post(reverse(ADD), form_data("ftp://crm.example.com", secret="whsec_short"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "not a webhook URL" in html
    assert "signing secret is whsec_" in html
    assert not WebhookSubscription.objects.exists()


def test_send_test_event_from_the_console_reaches_the_receiver(admin_client, receiver):
    subscription = subscribe(receiver)
    page = admin_client.get(change_url(subscription)).content.decode()
    assert "Send test event" in page
    response = admin_client.post(
        reverse("admin:webhooks_webhooksubscription_test", args=[subscription.pk]), follow=True
    )
    assert "Test event queued" in response.content.decode()
    drain()
    (arrived,) = receiver.accepted()
    assert arrived.body["type"] == "webhook.test"
    assert arrived.valid


def test_auto_disabled_subscriptions_show_a_banner(admin_client, receiver):
    subscription = subscribe(receiver)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        is_active=False, disabled_at=timezone.now(), disabled_reason="Disabled automatically after 20 failed"
    )
    html = admin_client.get(reverse("admin:webhooks_webhooksubscription_changelist")).content.decode()
    assert 'id="webhook-disabled-banner"' in html
    assert "Disabled automatically after 20 failed" in html
    subscribe(receiver)  # an active one shows no banner of its own
    WebhookSubscription.objects.filter(pk=subscription.pk).update(is_active=True, disabled_at=None)
    html = admin_client.get(reverse("admin:webhooks_webhooksubscription_changelist")).content.decode()
    assert 'id="webhook-disabled-banner"' not in html


def test_the_delivery_history_shows_each_attempt_and_redeliver_sends_it_again(admin_client, receiver):
    subscription = subscribe(receiver)
    receiver.fail_status = 503
    delivery = subscription_test_send(subscription_id=subscription.pk)
    drain(rounds=1)
    receiver.fail_status = 0
    IntegrationJob.objects.filter(pk=delivery.job_id).update(schedule_at=timezone.now())
    drain()
    page = admin_client.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk])).content.decode()
    assert "503" in page
    assert "204" in page
    assert "Redeliver" in page
    response = admin_client.post(reverse("admin:webhooks_webhookdelivery_redeliver", args=[delivery.pk]), follow=True)
    assert "queued again" in response.content.decode()
    drain()
    assert receiver.ids()[delivery.message_id] == 2
    assert WebhookDelivery.objects.get().state == WebhookDelivery.State.DELIVERED


def test_the_read_only_role_sees_subscriptions_but_no_secret_field_action(reader_client, receiver):
    subscription = subscribe(receiver)
    page = reader_client.get(change_url(subscription))
    assert page.status_code == 200
    assert "Send test event" not in page.content.decode()
    assert (
        reader_client.post(reverse("admin:webhooks_webhooksubscription_test", args=[subscription.pk])).status_code
        == 403
    )
    assert reader_client.post(reverse(ADD), form_data(receiver.url, secret=secret_generate())).status_code == 403


def test_webhooks_are_in_the_jobs_section(admin_client):
    html = admin_client.get(reverse("admin:console_section", kwargs={"key": "jobs"})).content.decode()
    assert "Webhook Subscriptions" in html
    assert "Webhook Deliveries" in html
