"""Webhook events from the cancellation flow and the drift finder to real receivers on 127.0.0.1, through the
engine's queue (claim → pipeline → fenced finish, in this thread): signed, once per subscription, filtered by
website, retried while a receiver is down, ordered per order when asked, redelivered with the same id."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.core import mail
from django.utils import timezone

from countermand.cancellations.models import CancellationRequest
from countermand.core.errors import DomainError
from countermand.integration.handlers import ManualRunRefused
from countermand.integration.models import IntegrationConnection, IntegrationJob, JobDefinition
from countermand.integration.queue import jobs_purge
from countermand.integration.services import job_retry, job_run
from countermand.orders.models import OrderDrift
from countermand.orders.services import order_drift_record
from countermand.settings.services import setting_set
from countermand.webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookSubscription
from countermand.webhooks.services import (
    WebhookDeliveryOpen,
    delivery_redeliver,
    subscription_save,
    subscription_test_send,
)
from countermand.webhooks.signing import secret_generate
from tests.factories import OrderFactory, WebsiteFactory
from tests.integration.conftest import cancel, drain
from tests.webhooks.conftest import ALL_EVENTS, subscribe
from tests.webhooks.receiver import WebhookReceiver, signature_valid

State = WebhookDelivery.State


def every_event(shop, fake_erp) -> None:
    """One order through each end of the cancellation flow, and a drift: every event type at least once."""
    cancel(shop)  # requested, sent, confirmed
    drain()
    refused = OrderFactory(website=shop.website, customer=shop.customer)
    fake_erp.refuse[refused.erp_or_web_number] = "Already shipped"
    cancel(shop, order=refused)  # requested, sent, denied
    drain()
    JobDefinition.objects.filter(name="OrderCancel").update(max_retries=0)
    fake_erp.fail_status = 503
    cancel(shop)  # requested, sent, failed
    drain()
    fake_erp.fail_status = 0
    JobDefinition.objects.filter(name="OrderCancel").update(is_active=False)
    cancel(shop)  # local_only
    drifted = OrderFactory(website=shop.website, customer=shop.customer, status="Cancelled")
    order_drift_record(
        order_id=drifted.pk, kind=OrderDrift.Kind.CANCELLED_HERE_NOT_THERE, our_status="Cancelled", erp_status="Shipped"
    )
    drain()


EXPECTED_TYPES = Counter(
    {
        "cancellation.requested": 3,
        "cancellation.sent": 3,
        "cancellation.confirmed": 1,
        "cancellation.denied": 1,
        "cancellation.failed": 1,
        "cancellation.local_only": 1,
        "order.drift_found": 1,
    }
)


def test_every_event_type_arrives_once_per_subscription_with_a_valid_signature(erp_shop, fake_erp, receivers):
    first, second = (WebhookReceiver(secret_generate()).start() for _ in range(2))
    receivers += [first, second]
    subscriptions = [subscribe(first), subscribe(second)]

    every_event(erp_shop, fake_erp)

    for receiver, subscription in zip((first, second), subscriptions, strict=True):
        assert receiver.received, "nothing arrived"
        assert all(r.valid and r.library_valid for r in receiver.received)
        assert set(receiver.ids().values()) == {1}  # each event once
        assert receiver.types() == EXPECTED_TYPES
        sent = set(WebhookDelivery.objects.filter(subscription=subscription).values_list("message_id", flat=True))
        assert set(receiver.ids()) == sent
        assert set(WebhookDelivery.objects.filter(subscription=subscription).values_list("state", flat=True)) == {
            State.DELIVERED
        }
    # The same event has one eventId for both subscriptions, and a webhook-id of each.
    first_events = {r.body["eventId"]: r.webhook_id for r in first.unique()}
    second_events = {r.body["eventId"]: r.webhook_id for r in second.unique()}
    assert set(first_events) == set(second_events)
    assert not set(first_events.values()) & set(second_events.values())


def test_a_body_carries_the_type_time_order_and_cancellation_and_its_headers_name_it(erp_shop, fake_erp, receiver):
    subscribe(receiver, event_types=["cancellation.confirmed"])
    request = cancel(erp_shop)
    drain()

    (arrived,) = receiver.accepted()
    body = arrived.body
    assert arrived.headers["webhook-id"] == body["id"]
    assert abs(int(arrived.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    assert arrived.headers["content-type"] == "application/json"
    assert body["type"] == "cancellation.confirmed"
    assert body["timestamp"].endswith("Z")
    assert body["data"]["order"]["webOrderNumber"] == request.order.web_order_number
    assert body["data"]["order"]["status"] == "Cancelled"
    assert body["data"]["cancellation"]["id"] == request.pk
    assert body["data"]["cancellation"]["state"] == "Confirmed"
    assert body["data"]["cancellation"]["reason"] == "Other"


def test_a_subscriber_filtered_to_one_website_gets_no_other_websites_events(erp_shop, fake_erp, receivers):
    other_website = WebsiteFactory(name="Export Store")
    mine, theirs, everyone = (WebhookReceiver(secret_generate()).start() for _ in range(3))
    receivers += [mine, theirs, everyone]
    subscribe(mine, website=erp_shop.website)
    subscribe(theirs, website=other_website)
    subscribe(everyone)

    every_event(erp_shop, fake_erp)

    assert mine.types() == EXPECTED_TYPES
    assert everyone.types() == EXPECTED_TYPES
    assert theirs.received == []
    assert not WebhookDelivery.objects.filter(subscription__website=other_website).exists()
    assert {r.body["data"]["order"]["websiteId"] for r in mine.accepted()} == {erp_shop.website.pk}


def test_only_the_event_types_subscribed_to_are_sent(erp_shop, fake_erp, receiver):
    subscribe(receiver, event_types=["cancellation.denied", "order.drift_found"])
    every_event(erp_shop, fake_erp)
    assert receiver.types() == Counter({"cancellation.denied": 1, "order.drift_found": 1})


def test_an_event_is_written_with_the_change_it_reports_or_not_at_all(erp_shop, receiver):
    subscribe(receiver)
    order = OrderFactory(website=erp_shop.website, customer=erp_shop.customer, status="Shipped")
    with pytest.raises(DomainError):
        cancel(erp_shop, order=order)  # refused by the rules: the transaction rolls back, with its outbox rows
    assert not WebhookDelivery.objects.exists()
    assert not IntegrationJob.objects.filter(handler="WebhookDelivery").exists()


def test_a_receiver_down_for_a_while_gets_everything_after_recovery(erp_shop, fake_erp, receiver):
    subscription = subscribe(receiver)
    connection = subscription.connection
    IntegrationConnection.objects.filter(pk=connection.pk).update(breaker_threshold=3, breaker_cooldown_seconds=0)
    JobDefinition.objects.filter(name="WebhookDelivery").update(max_retries=50)
    receiver.stop()  # connections refused
    for _ in range(4):
        cancel(erp_shop)
    drain(rounds=8)
    assert WebhookDelivery.objects.filter(state=State.PENDING).exists()
    failed = WebhookDeliveryAttempt.objects.filter(succeeded=False)
    assert failed.exists()
    assert all(a.status_code is None and a.error for a in failed)
    connection.refresh_from_db()
    assert connection.breaker_failures >= 3  # the target's own breaker counted the failures

    receiver.start()  # back on the same port
    drain(rounds=200)

    assert set(WebhookDelivery.objects.values_list("state", flat=True)) == {State.DELIVERED}
    assert set(receiver.ids()) == set(WebhookDelivery.objects.values_list("message_id", flat=True))
    assert receiver.types() == Counter(
        {"cancellation.requested": 4, "cancellation.sent": 4, "cancellation.confirmed": 4}
    )
    connection.refresh_from_db()
    assert connection.breaker_state == IntegrationConnection.BreakerState.CLOSED


def test_each_attempt_is_recorded_with_its_response_code_time_and_body_excerpt(erp_shop, receiver):
    subscription = subscribe(receiver, event_types=["cancellation.requested"])
    receiver.fail_status = 503
    JobDefinition.objects.filter(name="WebhookDelivery").update(max_retries=1)
    cancel(erp_shop)
    drain()
    (delivery,) = WebhookDelivery.objects.filter(subscription=subscription)
    assert delivery.state == State.FAILED
    attempts = list(delivery.attempts.order_by("id"))
    assert [(a.attempt, a.status_code, a.succeeded) for a in attempts] == [(1, 503, False), (2, 503, False)]
    assert all('"status": 503' in a.response_excerpt and a.attempted_at for a in attempts)
    assert delivery.attempt_count == 2
    assert delivery.last_status_code == 503


def test_redeliver_sends_the_same_webhook_id_again_and_the_receiver_can_dedupe(erp_shop, receiver):
    subscribe(receiver, event_types=["cancellation.requested"])
    cancel(erp_shop)
    drain()
    delivery = WebhookDelivery.objects.get()
    redelivered = delivery_redeliver(delivery_id=delivery.pk)
    assert redelivered.state == State.PENDING
    assert redelivered.job_id != delivery.job_id
    with pytest.raises(WebhookDeliveryOpen):
        delivery_redeliver(delivery_id=delivery.pk)
    drain()
    assert receiver.ids() == Counter({delivery.message_id: 2})
    first_body, second_body = (r.raw for r in receiver.accepted())
    assert first_body == second_body
    assert WebhookDelivery.objects.get().state == State.DELIVERED


def test_retrying_a_failed_delivery_job_redelivers_it(erp_shop, receiver):
    subscribe(receiver, event_types=["cancellation.requested"])
    receiver.fail_status = 500
    JobDefinition.objects.filter(name="WebhookDelivery").update(max_retries=0)
    cancel(erp_shop)
    drain()
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == State.FAILED
    receiver.fail_status = 0
    retried = job_retry(job_id=delivery.job_id, actor_id=None)
    assert retried.retry_of_id == delivery.job_id
    drain()
    delivery.refresh_from_db()
    assert delivery.state == State.DELIVERED
    assert delivery.job_id == retried.pk
    assert receiver.ids() == Counter({delivery.message_id: 1})


def test_a_manual_run_of_the_delivery_job_definition_is_refused(erp_shop, receiver):
    subscribe(receiver)
    definition = JobDefinition.objects.get(name="WebhookDelivery")
    with pytest.raises(ManualRunRefused, match="queued by events only"):
        job_run(definition_id=definition.pk, parameters={}, actor_id=None)
    assert not IntegrationJob.objects.filter(definition=definition).exists()


def test_a_streak_of_failures_disables_the_subscription_with_an_email_and_holds_its_deliveries(
    erp_shop, receiver, django_capture_on_commit_callbacks
):
    setting_set(name="WebhookFailureStreakLimit", value=3)
    setting_set(name="WebhookNotifyEmail", value=["ops@example.com"])
    subscription = subscribe(receiver, event_types=["cancellation.requested"])
    JobDefinition.objects.filter(name="WebhookDelivery").update(max_retries=20)
    IntegrationConnection.objects.filter(pk=subscription.connection_id).update(breaker_threshold=100)
    receiver.fail_status = 500
    cancel(erp_shop)
    with django_capture_on_commit_callbacks(execute=True):
        drain(rounds=10)

    subscription.refresh_from_db()
    assert not subscription.is_active
    assert subscription.auto_disabled
    assert subscription.failure_streak == 3
    assert "3 failed delivery attempts" in subscription.disabled_reason
    assert not IntegrationConnection.objects.get(pk=subscription.connection_id).is_active
    told = [m for m in mail.outbox if m.subject.startswith("Webhook subscription")]  # the buyer is told too
    assert [(m.to, m.subject) for m in told] == [
        (["ops@example.com"], f"Webhook subscription {subscription.pk} disabled")
    ]
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == State.PENDING
    assert delivery.job.status == IntegrationJob.Status.QUEUED
    assert delivery.attempt_count == 3

    receiver.fail_status = 0
    subscription.is_active = True
    subscription_save(subscription=subscription)  # an administrator activates it again
    subscription.refresh_from_db()
    assert subscription.failure_streak == 0
    assert subscription.disabled_at is None
    drain()
    assert WebhookDelivery.objects.get().state == State.DELIVERED
    assert receiver.types() == Counter({"cancellation.requested": 1})


def test_an_ordered_subscription_sends_the_events_of_one_order_one_at_a_time_in_order(erp_shop, receivers):
    ordered_receiver = WebhookReceiver(secret_generate()).start()
    receivers.append(ordered_receiver)
    ordered = subscribe(ordered_receiver, ordered=True)
    request = cancel(erp_shop)
    waiting = WebhookDelivery.objects.filter(subscription=ordered)
    assert list(waiting.values_list("state", flat=True)) == [State.PENDING]
    drain()
    got = [r.body["type"] for r in ordered_receiver.accepted()]
    assert got == ["cancellation.requested", "cancellation.sent", "cancellation.confirmed"]
    assert {r.body["data"]["cancellation"]["id"] for r in ordered_receiver.accepted()} == {request.pk}


def test_an_ordered_subscriptions_next_event_waits_until_the_one_before_is_delivered(erp_shop, receiver):
    subscription = subscribe(receiver, ordered=True, event_types=["cancellation.requested", "cancellation.sent"])
    receiver.fail_status = 503
    JobDefinition.objects.filter(name="WebhookDelivery").update(max_retries=50, retry_backoff_seconds=3600)
    IntegrationConnection.objects.filter(pk=subscription.connection_id).update(breaker_threshold=100)
    cancel(erp_shop)
    drain(rounds=5)  # the OrderCancel job runs (sent); the requested delivery fails and waits for its retry
    states = dict(WebhookDelivery.objects.values_list("event_type", "state"))
    assert states == {"cancellation.requested": State.PENDING, "cancellation.sent": State.WAITING}
    assert WebhookDelivery.objects.get(event_type="cancellation.sent").job_id is None

    receiver.fail_status = 0
    IntegrationJob.objects.filter(handler="WebhookDelivery").update(schedule_at=timezone.now())
    drain()
    assert [r.body["type"] for r in receiver.accepted()] == ["cancellation.requested", "cancellation.sent"]


def test_send_test_event_delivers_a_signed_test_event_to_an_active_subscription(shop, receiver):
    subscription = subscribe(receiver, event_types=["order.drift_found"])
    subscription_test_send(subscription_id=subscription.pk)
    drain()
    (arrived,) = receiver.accepted()
    assert arrived.valid
    assert arrived.body["type"] == "webhook.test"
    assert arrived.body["data"]["subscriptionId"] == subscription.pk
    subscription.is_active = False
    subscription_save(subscription=subscription)
    with pytest.raises(DomainError, match="not active"):
        subscription_test_send(subscription_id=subscription.pk)


def test_a_rotated_secret_signs_beside_the_new_one_during_the_overlap(shop, receiver):
    subscription = subscribe(receiver)
    old = receiver.secret
    new = secret_generate()
    subscription_save(subscription=subscription, secret=new)
    subscription_test_send(subscription_id=subscription.pk)
    drain()
    (arrived,) = receiver.accepted()
    assert len(arrived.headers["webhook-signature"].split(" ")) == 2
    assert signature_valid(old, arrived.headers, arrived.raw)  # receivers still on the old secret
    assert signature_valid(new, arrived.headers, arrived.raw)  # and those already switched

    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        previous_secret_expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    receiver.secret = new
    subscription_test_send(subscription_id=subscription.pk)
    drain()
    latest = receiver.accepted()[-1]
    assert len(latest.headers["webhook-signature"].split(" ")) == 1
    assert signature_valid(new, latest.headers, latest.raw)
    assert not signature_valid(old, latest.headers, latest.raw)


def test_old_deliveries_are_purged_with_their_jobs(erp_shop, receiver):
    subscribe(receiver, event_types=["cancellation.requested"])
    cancel(erp_shop)
    drain()
    assert WebhookDelivery.objects.count() == 1
    IntegrationJob.objects.filter(handler="WebhookDelivery").update(
        finished_at=timezone.now() - datetime.timedelta(days=40)
    )
    jobs_purge(older_than_days=30)
    assert not WebhookDelivery.objects.exists()
    assert not WebhookDeliveryAttempt.objects.exists()
    assert CancellationRequest.objects.count() == 1


def test_all_event_types_are_the_contract(db):
    from countermand.core.events import DomainEventType

    assert [t.value for t in DomainEventType] == ALL_EVENTS


def test_metrics_show_attempts_deliveries_and_latency_per_target(erp_shop, receiver):
    from countermand.integration.metrics import metrics_exposition

    subscription = subscribe(receiver, event_types=["cancellation.requested"])
    cancel(erp_shop)
    drain()
    text = metrics_exposition().decode()
    target = f'subscription="{subscription.pk}"'
    assert f'countermand_webhook_attempts_total{{result="2xx",{target}}}' in text
    assert f'countermand_webhook_deliveries{{state="Delivered",{target}}} 1.0' in text
    assert f"countermand_webhook_subscription_active{{{target}}} 1.0" in text
    connection = IntegrationConnection.objects.get(pk=subscription.connection_id).name
    assert f'countermand_erp_request_seconds_count{{connection="{connection}",result="2xx"}}' in text
