"""Every state change of webhooks: subscriptions (save, delete, test), events turned into deliveries (the
outbox rows, in the publishing transaction), a delivery's attempts, its end, and redelivery.

A delivery is a job of the `WebhookDelivery` definition on the engine's queue — the same leases,
retries with backoff, fencing and retention as ERP jobs — sent to the subscription's own connection
(type Webhook), so the circuit breaker, the concurrency limit and the latency metric are per target.
The job's idempotency key is the delivery's `message_id` (the `webhook-id`); the handler
(`handler.py`) hears how the job ended.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from urllib.parse import urlsplit

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from countermand.core.errors import Conflict, NotFound, ValidationFailed
from countermand.core.events import DomainEvent, DomainEventType
from countermand.integration.handlers import JobOutcome
from countermand.integration.models import IntegrationConnection, IntegrationJob, JobDefinition
from countermand.integration.services import DuplicateJob, connection_url_problem, job_cancel, job_enqueue
from countermand.orders.models import Order
from countermand.settings.models import ConfigurationChange
from countermand.settings.selectors import settings_for
from countermand.settings.services import (
    HIDDEN,
    configuration_change_record,
    configuration_changes,
    configuration_snapshot,
)
from countermand.webhooks import payloads
from countermand.webhooks.metrics import WEBHOOK_ATTEMPTS
from countermand.webhooks.models import (
    TEST_EVENT_TYPE,
    WEBHOOK_DELIVERY_DEFINITION,
    WEBHOOK_DELIVERY_HANDLER,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookSubscription,
)
from countermand.webhooks.signing import secret_check

logger = logging.getLogger(__name__)
State = WebhookDelivery.State
EVENT_TYPES = tuple(DomainEventType)
EXCERPT_CHARS = 500
AUDIT_KIND = ConfigurationChange.Kind.WEBHOOK_SUBSCRIPTION
SUBSCRIPTION_UNAUDITED = ("secret_encrypted", "previous_secret_encrypted", "failure_streak", "connection_id")


class WebhookSubscriptionNotFound(NotFound):
    code = "WEBHOOK_SUBSCRIPTION_NOT_FOUND"


class WebhookDeliveryNotFound(NotFound):
    code = "WEBHOOK_DELIVERY_NOT_FOUND"


class WebhookSubscriptionInactive(Conflict):
    code = "WEBHOOK_SUBSCRIPTION_INACTIVE"


class WebhookDeliveryOpen(Conflict):
    code = "WEBHOOK_DELIVERY_OPEN"


def delivery_definition() -> JobDefinition:
    """The job definition of every delivery (created on first use). Its *max retries*, *retry backoff* and
    *timeout* are the deliveries'; deactivating it holds new deliveries (state Held) until redelivered."""
    definition = JobDefinition.objects.filter(name=WEBHOOK_DELIVERY_DEFINITION).first()
    if definition is not None:
        return definition
    try:
        with transaction.atomic():
            return JobDefinition.objects.create(
                name=WEBHOOK_DELIVERY_DEFINITION,
                description="Delivers webhook events to their subscriptions (queued by the webhooks app only; "
                "the retries, backoff and timeout here are the deliveries').",
                job_type=JobDefinition.JobType.SUBMIT,
                integration_processor=WEBHOOK_DELIVERY_DEFINITION,
                max_retries=8,
                retry_backoff_seconds=30,
                timeout_seconds=60,
            )
    except IntegrityError:  # created by a concurrent transaction
        return JobDefinition.objects.get(name=WEBHOOK_DELIVERY_DEFINITION)


def subscription_validate(subscription: WebhookSubscription) -> None:
    """Check URL and event types. Raises ValidationFailed naming the field."""
    problem = connection_url_problem(subscription.url or "") if subscription.url else "it is empty"
    if problem:
        raise ValidationFailed(
            f"url {str(subscription.url)[:80]!r} is not a webhook URL: {problem}.",
            code="INVALID_WEBHOOK_URL",
            field="url",
        )
    types = subscription.event_types
    if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
        raise ValidationFailed(
            f"eventTypes must list one or more of: {', '.join(EVENT_TYPES)}.",
            code="INVALID_EVENT_TYPES",
            field="eventTypes",
        )
    unknown = sorted(set(types) - set(EVENT_TYPES))
    if unknown:
        raise ValidationFailed(
            f"Unknown event type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}.",
            code="INVALID_EVENT_TYPES",
            field="eventTypes",
        )
    subscription.event_types = sorted(set(types), key=EVENT_TYPES.index)


def _connection_sync(subscription: WebhookSubscription) -> None:
    """Point the subscription's connection (its breaker and limit) at its URL and activity."""
    connection = subscription.connection
    host = urlsplit(subscription.url).hostname or "?"
    connection.name = f"Webhook {subscription.pk}: {host}"[:200]
    connection.url = subscription.url
    connection.is_active = subscription.is_active
    connection.save(update_fields=["name", "url", "is_active", "updated_at"])


def subscription_save(
    *, subscription: WebhookSubscription, secret: str | None = None, actor_id: int | None = None
) -> WebhookSubscription:
    """Create or update `subscription` (an instance carrying the new values).

    A new one needs a `secret`. A new secret on an existing subscription rotates it: the old one keeps
    signing beside the new one for `WebhookSecretOverlapHours`, so receivers can switch without losing a
    delivery. Activating a subscription (again) clears its failure streak; its held-back deliveries go
    out. The change is audited, secrets only as "(hidden)". Raises ValidationFailed.
    """
    subscription_validate(subscription)
    if secret is not None:
        secret_check(secret)
    with transaction.atomic():
        stored = (
            WebhookSubscription.objects.select_for_update().filter(pk=subscription.pk).first()
            if subscription.pk
            else None
        )
        secret_changed = stored is None
        if stored is None:
            if not secret:
                raise ValidationFailed(
                    "A new subscription needs a signing secret.", code="SECRET_REQUIRED", field="secret"
                )
            subscription.connection = IntegrationConnection.objects.create(
                name=f"Webhook (new) {timezone.now().timestamp()}",
                type_name="Webhook",
                url=subscription.url,
                timeout_seconds=10,
                max_concurrent_jobs=4,
                breaker_threshold=5,
                breaker_cooldown_seconds=60,
            )
            subscription.set_secret(secret)
        else:
            # What the worker writes (the streak, a disabling) and the secrets come from the locked row, not
            # from the caller's copy, which may be older.
            subscription.connection_id = stored.connection_id
            subscription.failure_streak = stored.failure_streak
            subscription.disabled_at, subscription.disabled_reason = stored.disabled_at, stored.disabled_reason
            subscription.secret_encrypted = stored.secret_encrypted
            subscription.previous_secret_encrypted = stored.previous_secret_encrypted
            subscription.previous_secret_expires_at = stored.previous_secret_expires_at
            if secret and secret != stored.secrets(now=timezone.now())[0]:
                secret_changed = True
                hours = settings_for().webhook_secret_overlap_hours
                subscription.previous_secret_encrypted = stored.secret_encrypted
                subscription.previous_secret_expires_at = timezone.now() + datetime.timedelta(hours=hours)
                subscription.set_secret(secret)
            if subscription.is_active and not stored.is_active:
                subscription.failure_streak = 0
                subscription.disabled_at = None
                subscription.disabled_reason = ""
        subscription.save()
        _connection_sync(subscription)
        before = configuration_snapshot(stored, exclude=SUBSCRIPTION_UNAUDITED) if stored is not None else {}
        changes = configuration_changes(before, configuration_snapshot(subscription, exclude=SUBSCRIPTION_UNAUDITED))
        if secret_changed:
            changes["secret"] = [HIDDEN if stored is not None else None, HIDDEN]
        configuration_change_record(
            kind=AUDIT_KIND,
            object_id=subscription.pk,
            object_name=str(subscription)[:255],
            action="Updated" if stored is not None else "Created",
            changes=changes,
            actor_id=actor_id,
        )
    return subscription


def subscription_delete(*, subscription_id: int, actor_id: int | None = None) -> None:
    """Delete a subscription with its deliveries and its connection; its open delivery jobs are cancelled."""
    with transaction.atomic():
        subscription = WebhookSubscription.objects.select_for_update().filter(pk=subscription_id).first()
        if subscription is None:
            raise WebhookSubscriptionNotFound(f"There is no webhook subscription {subscription_id}.")
        open_jobs = IntegrationJob.objects.filter(
            connection_id=subscription.connection_id,
            status__in=(IntegrationJob.Status.QUEUED, IntegrationJob.Status.IN_PROCESS),
        ).values_list("id", flat=True)
        for job_id in list(open_jobs):
            job_cancel(job_id=job_id, actor_id=actor_id)
        connection = subscription.connection
        name = str(subscription)[:255]
        subscription.delete()
        connection.delete()  # its jobs keep their history without it (SET_NULL)
        configuration_change_record(
            kind=AUDIT_KIND,
            object_id=subscription_id,
            object_name=name,
            action="Deleted",
            changes={},
            actor_id=actor_id,
        )


def _delivery_queue(
    delivery: WebhookDelivery, definition: JobDefinition, *, requested_by_id: int | None = None
) -> None:
    """Queue the delivery's job (in the caller's transaction), or hold it when the definition is inactive."""
    if not definition.is_active:
        delivery.state = State.HELD
        delivery.job = None
        return
    delivery.job = job_enqueue(
        definition=definition,
        dedupe_key=f"webhook:{delivery.message_id}",
        idempotency_key=delivery.message_id,
        handler=WEBHOOK_DELIVERY_HANDLER,
        connection_id=delivery.subscription.connection_id,
        requested_by_id=requested_by_id,
    )
    delivery.state = State.PENDING


def _delivery_create(
    subscription: WebhookSubscription,
    definition: JobDefinition,
    *,
    event_type: str,
    event_id: str | None,
    order_id: int | None,
    data: dict,
    occurred_at: datetime.datetime,
    requested_by_id: int | None = None,
) -> WebhookDelivery:
    delivery = WebhookDelivery(
        subscription=subscription, event_type=event_type, order_id=order_id, occurred_at=occurred_at, payload={}
    )
    if event_id:
        delivery.event_id = event_id
    delivery.payload = payloads.body(
        message_id=delivery.message_id,
        event_id=str(delivery.event_id),
        event_type=event_type,
        occurred_at=occurred_at,
        data=data,
    )
    waits = (
        subscription.ordered
        and order_id is not None
        and WebhookDelivery.objects.filter(
            subscription=subscription, order_id=order_id, state__in=WebhookDelivery.OPEN_STATES
        ).exists()
    )
    if waits:
        delivery.state = State.WAITING
    else:
        _delivery_queue(delivery, definition, requested_by_id=requested_by_id)
    delivery.save()
    return delivery


def webhook_event_publish(event: DomainEvent) -> list[WebhookDelivery]:
    """The domain-event listener (registered in `WebhooksConfig.ready()`): one delivery, and its job, per
    active subscription that wants `event.type` for the order's website — inside the publishing
    transaction, so the event is sent if and only if the change it reports commits."""
    # Subscriptions first: with none that wants this type, an event costs this one query.
    candidates = [
        s
        for s in WebhookSubscription.objects.filter(is_active=True).select_related("connection")
        if event.type in s.event_types
    ]
    if not candidates:
        return []
    website_id = Order.objects.filter(pk=event.order_id).values_list("website_id", flat=True).first()
    wanted = [s for s in candidates if website_id is not None and s.website_id in (None, website_id)]
    if not wanted:
        return []
    if any(s.ordered for s in wanted):
        # Deliveries of one order wait for each other under the order's row lock, which the delivery's end
        # (delivery_finish) takes too: an event and the end of the one before it cannot miss each other.
        Order.objects.select_for_update().filter(pk=event.order_id).values_list("pk").first()
    data = payloads.event_data(order_id=event.order_id, cancellation_id=event.cancellation_id, drift_id=event.drift_id)
    definition = delivery_definition()
    now = timezone.now()
    event_id = str(uuid.uuid4())  # one event, whatever the number of its deliveries
    return [
        _delivery_create(
            subscription,
            definition,
            event_type=event.type,
            event_id=event_id,
            order_id=event.order_id,
            data=data,
            occurred_at=now,
        )
        for subscription in wanted
    ]


def subscription_test_send(*, subscription_id: int, actor_id: int | None = None) -> WebhookDelivery:
    """*Send test event*: a signed `webhook.test` delivery through the queue, whatever event types the
    subscription wants. Raises WebhookSubscriptionNotFound, WebhookSubscriptionInactive."""
    with transaction.atomic():
        subscription = (
            WebhookSubscription.objects.select_for_update()
            .select_related("connection")
            .filter(pk=subscription_id)
            .first()
        )
        if subscription is None:
            raise WebhookSubscriptionNotFound(f"There is no webhook subscription {subscription_id}.")
        if not subscription.is_active:
            raise WebhookSubscriptionInactive(
                f"Webhook subscription {subscription_id} is not active; activate it to send a test event."
            )
        data = {"subscriptionId": subscription.pk, "message": "A test event sent from Countermand."}
        return _delivery_create(
            subscription,
            delivery_definition(),
            event_type=TEST_EVENT_TYPE,
            event_id=None,
            order_id=None,
            data=data,
            occurred_at=timezone.now(),
            requested_by_id=actor_id,
        )


def delivery_redeliver(*, delivery_id: int, actor_id: int | None = None) -> WebhookDelivery:
    """*Redeliver*: send a delivery again, with the same `webhook-id` and body (the receiver may dedupe),
    as a new job with fresh attempts. Raises WebhookDeliveryNotFound, WebhookDeliveryOpen (it is on its way)."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update().select_related("subscription").filter(pk=delivery_id).first()
        )
        if delivery is None:
            raise WebhookDeliveryNotFound(f"There is no webhook delivery {delivery_id}.")
        if delivery.state in WebhookDelivery.OPEN_STATES:
            raise WebhookDeliveryOpen(
                f"Delivery {delivery_id} is {delivery.state}: it is on its way already.", state=delivery.state
            )
        definition = delivery_definition()
        if not definition.is_active:
            raise Conflict(
                f"The {WEBHOOK_DELIVERY_DEFINITION} job definition is inactive; activate it to deliver.",
                code="WEBHOOK_DELIVERY_PAUSED",
            )
        try:
            with transaction.atomic():
                _delivery_queue(delivery, definition, requested_by_id=actor_id)
        except DuplicateJob as exc:
            raise WebhookDeliveryOpen(f"Delivery {delivery_id} is on its way already.") from exc
        delivery.delivered_at = None
        delivery.save(update_fields=["state", "job", "delivered_at"])
    return delivery


def delivery_attempt_record(
    *,
    message_id: str,
    job_id: int,
    attempt: int,
    status_code: int | None,
    duration_ms: int,
    response_excerpt: str = "",
    error: str = "",
) -> WebhookDeliveryAttempt | None:
    """Record one HTTP request of a delivery (called by the delivery processor after the request, in a
    transaction of its own). A 2xx answer resets the subscription's failure streak; anything else adds to
    it, and a streak of `WebhookFailureStreakLimit` disables the subscription (its queued deliveries wait,
    an e-mail goes out, the console shows a banner)."""
    succeeded = status_code is not None and 200 <= status_code < 300
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.filter(message_id=message_id).first()
        if delivery is None:
            return None
        subscription = WebhookSubscription.objects.select_for_update().get(pk=delivery.subscription_id)
        recorded = WebhookDeliveryAttempt.objects.create(
            delivery=delivery,
            job_id=job_id,
            attempt=attempt,
            attempted_at=now,
            status_code=status_code,
            duration_ms=duration_ms,
            response_excerpt=response_excerpt[:EXCERPT_CHARS],
            error=error[:2000],
            succeeded=succeeded,
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempt_count=delivery.attempt_count + 1, last_status_code=status_code, last_attempt_at=now
        )
        if succeeded:
            if subscription.failure_streak:
                subscription.failure_streak = 0
                subscription.save(update_fields=["failure_streak"])
        else:
            subscription.failure_streak += 1
            subscription.save(update_fields=["failure_streak"])
            limit = settings_for().webhook_failure_streak_limit
            if subscription.is_active and limit and subscription.failure_streak >= limit:
                _subscription_auto_disable(subscription, now)
    result = "error" if status_code is None else f"{status_code // 100}xx"
    WEBHOOK_ATTEMPTS.labels(str(delivery.subscription_id), result).inc()
    return recorded


def _subscription_auto_disable(subscription: WebhookSubscription, now: datetime.datetime) -> None:
    subscription.is_active = False
    subscription.disabled_at = now
    subscription.disabled_reason = (
        f"Disabled automatically after {subscription.failure_streak} failed delivery attempts in a row. "
        "Its queued deliveries wait; activate it again once the receiver is fixed."
    )
    subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason", "updated_at"])
    _connection_sync(subscription)
    subscription_id = subscription.pk
    logger.warning("webhook subscription %s disabled after %s failures", subscription_id, subscription.failure_streak)
    transaction.on_commit(lambda: _notify_disabled(subscription_id))


def _notify_disabled(subscription_id: int) -> None:
    """E-mail `WebhookNotifyEmail` (else the active superusers) that a subscription was disabled."""
    subscription = WebhookSubscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        return
    configured = settings_for().webhook_notify_email
    recipients = configured or list(
        get_user_model()
        .objects.filter(is_superuser=True, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if not recipients:
        return
    try:
        send_mail(
            f"Webhook subscription {subscription.pk} disabled",
            f"Webhook subscription {subscription.pk} ({subscription.url}) was disabled.\n"
            + subscription.disabled_reason,
            None,
            recipients,
        )
    except Exception:  # the subscription stays disabled; the banner still shows it
        logger.exception("cannot e-mail %s about webhook subscription %s", recipients, subscription_id)


FINAL_STATES = {
    JobOutcome.SUCCEEDED: State.DELIVERED,
    JobOutcome.REJECTED: State.FAILED,
    JobOutcome.FAILED: State.FAILED,
    JobOutcome.CANCELLED: State.CANCELLED,
}


def delivery_finish(*, job_id: int, outcome: JobOutcome) -> WebhookDelivery | None:
    """The delivery job ended (the handler, inside the fenced finish's transaction): the delivery is
    Delivered, Failed or Cancelled; for an ordered subscription the next waiting delivery of the same
    order is queued."""
    delivery = WebhookDelivery.objects.select_related("subscription").filter(job_id=job_id).first()
    if delivery is None:
        return None
    if delivery.order_id is not None and delivery.subscription.ordered:
        Order.objects.select_for_update().filter(pk=delivery.order_id).values_list("pk").first()
    delivery.state = FINAL_STATES[outcome]
    delivery.delivered_at = timezone.now() if outcome == JobOutcome.SUCCEEDED else None
    delivery.save(update_fields=["state", "delivered_at"])
    if delivery.order_id is not None and delivery.subscription.ordered:
        following = (
            WebhookDelivery.objects.select_related("subscription")
            .filter(subscription_id=delivery.subscription_id, order_id=delivery.order_id, state=State.WAITING)
            .order_by("id")
            .first()
        )
        if following is not None:
            _delivery_queue(following, delivery_definition())
            following.save(update_fields=["state", "job"])
    return delivery
