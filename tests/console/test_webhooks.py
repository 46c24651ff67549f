"""Administration > Jobs > Webhook Subscriptions and Webhook Deliveries: a write-only secret (generated and shown
once when left empty), Send test event to a real receiver, the banner of auto-disabled subscriptions, the
delivery history with its attempts, and Redeliver."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from countermand.integration.models import IntegrationJob
from countermand.webhooks.models import WebhookDelivery, WebhookSubscription
from countermand.webhooks.services import subscription_test_send
from countermand.webhooks.signing import secret_generate
from tests.console.conftest import NO_PASSWORD, client_for
from tests.factories import StaffFactory
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


def auto_disable(subscription, reason: str = "Disabled automatically after 20 failed delivery attempts") -> None:
    """What the failure streak does to a subscription (services._subscription_auto_disable), without 20 failures."""
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        is_active=False, disabled_at=timezone.now(), disabled_reason=reason
    )


# Console pages of each kind: the index, a section, a model list and form, a custom page.
CONSOLE_PAGES = (
    ("admin:index", {}),
    ("admin:console_section", {"key": "sales"}),
    ("admin:orders_order_changelist", {}),
    ("admin:websites_website_add", {}),
    ("admin:console_settings", {}),
    ("admin:webhooks_webhooksubscription_changelist", {}),
)


def test_an_auto_disabled_subscription_shows_a_banner_on_every_console_page_linking_to_it(admin_client, receiver):
    subscription = subscribe(receiver)
    subscribe(receiver)  # an active one is not in the banner
    auto_disable(subscription)
    for name, kwargs in CONSOLE_PAGES:
        html = admin_client.get(reverse(name, kwargs=kwargs)).content.decode()
        assert 'id="webhook-disabled-banner"' in html, name
        assert "Disabled automatically after 20 failed delivery attempts" in html, name
        assert f'href="{change_url(subscription)}"' in html, name


def test_the_webhook_banner_is_gone_once_the_subscription_is_reactivated(admin_client, receiver):
    subscription = subscribe(receiver)
    auto_disable(subscription)
    assert 'id="webhook-disabled-banner"' in admin_client.get(reverse("admin:index")).content.decode()
    response = admin_client.post(change_url(subscription), form_data(receiver.url, is_active="on"), follow=True)
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.is_active
    assert subscription.disabled_at is None
    for name, kwargs in CONSOLE_PAGES:
        assert 'id="webhook-disabled-banner"' not in admin_client.get(reverse(name, kwargs=kwargs)).content.decode()


def test_the_webhook_banner_costs_one_small_query_per_page_however_many_are_disabled(admin_client, receiver):
    def subscription_queries(url: str) -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        return [q["sql"] for q in queries.captured_queries if "webhooks_webhooksubscription" in q["sql"]]

    url = reverse("admin:console_settings")  # a page that reads no subscription of its own
    assert len(subscription_queries(url)) == 1  # none disabled: still one query, no banner
    disabled = [subscribe(receiver) for _ in range(3)]
    for subscription in disabled:
        auto_disable(subscription)
    (sql,) = subscription_queries(url)
    assert "secret_encrypted" not in sql  # only the columns the banner shows
    html = admin_client.get(url).content.decode()
    assert all(f'href="{change_url(s)}"' in html for s in disabled)


def test_the_webhook_banner_is_not_shown_to_whoever_may_not_open_subscriptions(receiver):
    auto_disable(subscribe(receiver))
    html = client_for(StaffFactory(password=NO_PASSWORD)).get(reverse("admin:index")).content.decode()
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
