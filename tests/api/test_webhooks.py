"""Admin API of webhooks: subscriptions (secret write-only), Send test event, delivery history and Redeliver —
against a real receiver on 127.0.0.1. A signing secret never appears in any response, log or audit row."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from django.test import Client

from countermand.cancellations.services import order_cancel_request
from countermand.integration.models import IntegrationJob, IntegrationJobLog
from countermand.orders.actors import actor_for_user
from countermand.orders.models import Order
from countermand.settings.models import ConfigurationChange
from countermand.webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription
from countermand.webhooks.signing import secret_generate
from tests.integration.conftest import drain
from tests.webhooks.conftest import ALL_EVENTS
from tests.webhooks.receiver import WebhookReceiver

JSON = "application/json"
BASE = "/api/v1/admin/webhooksubscriptions"


@pytest.fixture
def integration(world) -> Client:
    return world.api("integration_admin")


def create(client: Client, receiver: WebhookReceiver, **fields) -> dict:
    body = {"url": receiver.url, "eventTypes": ALL_EVENTS, "secret": receiver.secret, **fields}
    response = client.post(BASE, json.dumps(body), content_type=JSON)
    assert response.status_code == 201, response.content
    return response.json()


def test_a_subscription_is_created_with_a_write_only_secret_stored_encrypted(integration, receiver, world):
    created = create(integration, receiver, websiteId=world.store.pk, description="CRM")
    assert "secret" not in created
    assert created["eventTypes"] == ALL_EVENTS
    assert created["websiteId"] == world.store.pk
    assert created["isActive"] is True
    assert created["connectionId"]
    stored = WebhookSubscription.objects.get(pk=created["id"])
    assert receiver.secret not in stored.secret_encrypted
    assert stored.secrets(now=stored.created_at)[0] == receiver.secret
    listed = integration.get(BASE).json()["webhookSubscriptions"]
    assert [s["id"] for s in listed] == [created["id"]]
    assert integration.get(f"{BASE}/{created['id']}").json() == created


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"eventTypes": ALL_EVENTS}, "secret"),
        ({"eventTypes": ALL_EVENTS, "secret": "not-a-secret"}, "secret"),
        ({"eventTypes": ALL_EVENTS, "secret": "whsec_" + base64.b64encode(b"short").decode()}, "secret"),
        ({"eventTypes": ["order.shipped"], "secret": secret_generate()}, "eventTypes"),
        ({"eventTypes": [], "secret": secret_generate()}, "eventTypes"),
    ],
)
def test_a_subscription_without_a_good_secret_or_event_types_is_400(integration, receiver, body, field):
    response = integration.post(BASE, json.dumps({"url": receiver.url, **body}), content_type=JSON)
    assert response.status_code == 400
    assert field in response.content.decode()
    assert not WebhookSubscription.objects.exists()


def test_a_subscription_url_must_be_an_http_url(integration):
    body = {"url": "ftp://crm.example.com/hook", "eventTypes": ALL_EVENTS, "secret": secret_generate()}
    response = integration.post(BASE, json.dumps(body), content_type=JSON)
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_WEBHOOK_URL"


def test_send_test_event_and_the_delivery_history_with_each_attempt(integration, receiver):
    created = create(integration, receiver)
    receiver.fail_status = 503
    response = integration.post(f"{BASE}/{created['id']}/test")
    assert response.status_code == 202
    delivery = response.json()
    assert delivery["eventType"] == "webhook.test"
    assert delivery["state"] == "Pending"
    assert delivery["webhookId"].startswith("msg_")
    drain(rounds=1)
    receiver.fail_status = 0
    IntegrationJob.objects.filter(pk=delivery["jobNumber"]).update(schedule_at="2000-01-01T00:00:00Z")
    drain()

    shown = integration.get(f"/api/v1/admin/webhookdeliveries/{delivery['id']}").json()
    assert shown["state"] == "Delivered"
    assert [(a["attempt"], a["statusCode"], a["succeeded"]) for a in shown["attempts"]] == [
        (1, 503, False),
        (2, 204, True),
    ]
    assert '"status": 503' in shown["attempts"][0]["responseExcerpt"]
    assert shown["body"]["id"] == shown["webhookId"]
    listed = integration.get(f"/api/v1/admin/webhookdeliveries?subscriptionId={created['id']}&state=Delivered").json()
    assert [d["id"] for d in listed["webhookDeliveries"]] == [delivery["id"]]
    assert listed["pagination"]["totalItemCount"] == 1

    again = integration.post(f"/api/v1/admin/webhookdeliveries/{delivery['id']}/redeliver")
    assert again.status_code == 202
    assert again.json()["state"] == "Pending"
    assert integration.post(f"/api/v1/admin/webhookdeliveries/{delivery['id']}/redeliver").status_code == 409
    drain()
    assert receiver.ids()[delivery["webhookId"]] == 2


def test_a_test_event_to_an_inactive_subscription_is_409(integration, receiver):
    created = create(integration, receiver, isActive=False)
    response = integration.post(f"{BASE}/{created['id']}/test")
    assert response.status_code == 409
    assert response.json()["code"] == "WEBHOOK_SUBSCRIPTION_INACTIVE"


def test_a_new_secret_rotates_it_and_the_previous_one_overlaps(integration, receiver):
    created = create(integration, receiver)
    response = integration.patch(
        f"{BASE}/{created['id']}", json.dumps({"secret": secret_generate()}), content_type=JSON
    )
    assert response.status_code == 200
    assert response.json()["hasPreviousSecret"] is True
    assert response.json()["previousSecretExpiresAt"]
    unchanged = integration.patch(f"{BASE}/{created['id']}", json.dumps({"description": "x"}), content_type=JSON)
    assert unchanged.json()["hasPreviousSecret"] is True


def test_deleting_a_subscription_cancels_its_open_deliveries_and_removes_its_connection(integration, receiver):
    created = create(integration, receiver)
    integration.post(f"{BASE}/{created['id']}/test")
    job = IntegrationJob.objects.get(handler="WebhookDelivery")
    assert integration.delete(f"{BASE}/{created['id']}").status_code == 204
    job.refresh_from_db()
    assert job.status == IntegrationJob.Status.CANCELLED
    assert job.connection_id is None
    assert not WebhookSubscription.objects.exists()
    assert not WebhookDelivery.objects.exists()


def test_a_delivery_shows_the_order_and_cancellation_as_the_admin_api_does(integration, receiver, world):
    create(integration, receiver, eventTypes=["cancellation.requested"])
    order = Order.objects.get(web_order_number="WEB-1002")
    buyer = actor_for_user(world.users["buyer_c1000"])
    request = order_cancel_request(order=order, actor=buyer, channel="api", reason_code="Other", note="twice")
    body = WebhookDelivery.objects.get().payload
    shown = integration.get(f"/api/v1/admin/orders/{order.web_order_number}").json()

    sent_order = body["data"]["order"]
    assert set(sent_order) <= set(shown)
    assert {k: v for k, v in shown.items() if k in sent_order and k != "orderLines"} == {
        k: v for k, v in sent_order.items() if k != "orderLines"
    }
    # The lines without the caller's view of them (`cancelBlockers`): the event's, not the reader's.
    sent_lines = sent_order["orderLines"]
    assert [{k: v for k, v in line.items() if k in sent_lines[0]} for line in shown["orderLines"]] == sent_lines
    (shown_cancellation,) = (c for c in shown["cancellations"] if c["id"] == request.pk)
    sent_cancellation = body["data"]["cancellation"]
    assert set(sent_cancellation) <= set(shown_cancellation)
    assert {k: v for k, v in shown_cancellation.items() if k in sent_cancellation} == sent_cancellation


def test_a_secret_never_appears_in_any_response_log_or_audit_row(integration, receivers, world, caplog):
    caplog.set_level(logging.DEBUG)
    first = WebhookReceiver(secret_generate()).start()
    rotated = secret_generate()
    receivers.append(first)
    secrets = [first.secret, rotated]
    keys = [s.removeprefix("whsec_") for s in secrets]
    responses = []

    created = create(integration, first)
    responses.append(json.dumps(created))
    patched = integration.patch(f"{BASE}/{created['id']}", json.dumps({"secret": rotated}), content_type=JSON)
    responses.append(patched.content.decode())
    put = integration.put(
        f"{BASE}/{created['id']}",
        json.dumps({"url": first.url, "eventTypes": ALL_EVENTS, "secret": rotated, "isActive": True}),
        content_type=JSON,
    )
    responses.append(put.content.decode())
    bad = integration.post(
        BASE, json.dumps({"url": first.url, "eventTypes": ["x"], "secret": rotated}), content_type=JSON
    )
    responses.append(bad.content.decode())
    first.fail_status = 500  # failed attempts are logged too
    responses.append(integration.post(f"{BASE}/{created['id']}/test").content.decode())
    drain(rounds=3)
    first.fail_status = 0
    IntegrationJob.objects.update(schedule_at="2000-01-01T00:00:00Z")
    drain()
    paths = [BASE, f"{BASE}/{created['id']}", "/api/v1/admin/webhookdeliveries", "/api/v1/admin/integrationjobs"]
    paths += [f"/api/v1/admin/integrationjobs/{pk}/logs" for pk in IntegrationJob.objects.values_list("pk", flat=True)]
    responses += [integration.get(path).content.decode() for path in paths]

    stored = [
        caplog.text,
        *IntegrationJobLog.objects.values_list("message", flat=True),
        *(json.dumps(j.result) + j.error for j in IntegrationJob.objects.all()),
        *(json.dumps(c.changes) for c in ConfigurationChange.objects.all()),
        *(a.response_excerpt + a.error for a in WebhookDeliveryAttempt.objects.all()),
        *(json.dumps(d.payload) for d in WebhookDelivery.objects.all()),
    ]
    assert first.accepted(), "the test event was delivered"
    assert ConfigurationChange.objects.filter(kind="WebhookSubscription", changes__has_key="secret").exists()
    for text in responses + stored:
        for value in secrets + keys:
            assert value not in text
