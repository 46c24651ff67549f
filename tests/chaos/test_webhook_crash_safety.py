"""Crash safety of webhook deliveries: worker processes SIGKILLed mid-delivery lose no event.

60 cancellations (each: requested, sent, confirmed — 180 events) delivered by real `countermand worker`
processes to a real receiver on 127.0.0.1 that verifies every signature and answers slowly, so deliveries
are in flight when a worker is killed (at least 3 times, each restarted). At-least-once: a delivery whose
worker died after the receiver took it arrives again with the same webhook-id; the receiver, deduplicating
on it, has every event of every order — no gap — and nothing else.
"""

from __future__ import annotations

import signal
import time
from collections import defaultdict

import pytest

from countermand.cancellations.models import CancellationRequest
from countermand.integration.models import IntegrationConnection, IntegrationJob, IntegrationJobLog, JobDefinition
from countermand.webhooks.models import WebhookDelivery
from countermand.webhooks.signing import secret_generate
from tests.factories import OrderFactory
from tests.integration.conftest import cancel
from tests.waiting import wait_until
from tests.webhooks.conftest import subscribe
from tests.webhooks.receiver import WebhookReceiver

ORDERS = 60
KILLS = 3
EVENTS = ["cancellation.requested", "cancellation.sent", "cancellation.confirmed"]


@pytest.mark.django_db(transaction=True)
def test_killed_workers_lose_no_webhook_delivery_and_the_receiver_counts_no_gap(erp_shop, fake_erp, workers):
    receiver = WebhookReceiver(secret_generate()).start()
    try:
        _run(erp_shop, receiver, workers)
    finally:
        receiver.stop()


def _run(shop, receiver: WebhookReceiver, workers) -> None:
    subscription = subscribe(receiver, event_types=EVENTS)
    IntegrationConnection.objects.filter(pk=subscription.connection_id).update(max_concurrent_jobs=8)
    JobDefinition.objects.filter(name="WebhookDelivery").update(max_retries=20)
    JobDefinition.objects.filter(name="OrderCancel").update(max_retries=20)
    receiver.delay = 0.3  # long enough in flight to be cut short by a kill
    orders = OrderFactory.create_batch(ORDERS, website=shop.website, customer=shop.customer)
    for order in orders:
        cancel(shop, order=order)

    names = {"a": 0, "b": 0}

    def start(slot: str):
        names[slot] += 1
        return workers.start("--concurrency", "4", name=f"{slot}{names[slot]}")

    procs = {slot: start(slot) for slot in names}
    kills, cut_short = 0, 0
    started = time.monotonic()
    while kills < KILLS:
        assert time.monotonic() - started < 60, f"only {kills} kills in 60 s"
        time.sleep(1.5)
        victim = "ab"[kills % 2]
        name = f"{victim}{names[victim]}"
        in_flight = IntegrationJob.objects.filter(
            status=IntegrationJob.Status.IN_PROCESS, lease_owner=name, handler="WebhookDelivery"
        ).count()
        if in_flight == 0:
            continue  # not up yet, or between deliveries: a kill now would cut none short
        procs[victim].send_signal(signal.SIGKILL)
        procs[victim].wait()
        kills += 1
        cut_short += in_flight
        procs[victim] = start(victim)
    assert WebhookDelivery.objects.exclude(state=WebhookDelivery.State.DELIVERED).exists(), (
        "the run ended before the kills; make the receiver slower"
    )

    wait_until(
        lambda: (
            WebhookDelivery.objects.count() == ORDERS * len(EVENTS)
            and not WebhookDelivery.objects.exclude(state=WebhookDelivery.State.DELIVERED).exists()
        ),
        timeout=120,
        interval=0.25,
        message=lambda: f"every delivery Delivered: {list(WebhookDelivery.objects.values_list('state', flat=True))}",
    )
    assert not CancellationRequest.objects.exclude(state=CancellationRequest.State.CONFIRMED).exists()

    # Every delivery arrived (at least once), each arrival validly signed; deduplicated on webhook-id, the
    # receiver holds every event of every order and nothing else.
    sent = set(WebhookDelivery.objects.values_list("message_id", flat=True))
    arrivals = receiver.ids()
    assert set(arrivals) == sent
    assert all(r.valid and r.library_valid for r in receiver.received)
    per_order: dict[str, list[str]] = defaultdict(list)
    for arrived in receiver.unique():
        per_order[arrived.body["data"]["order"]["webOrderNumber"]].append(arrived.body["type"])
    assert set(per_order) == {o.web_order_number for o in orders}
    assert all(sorted(types) == sorted(EVENTS) for types in per_order.values())
    # The kills did cut deliveries short; the reaper handed them to the living workers.
    assert cut_short >= KILLS
    reaped = IntegrationJobLog.objects.filter(
        message__contains="expired (the worker stopped or hung)", job__handler="WebhookDelivery"
    ).count()
    assert reaped >= KILLS
    assert receiver.secret not in workers.logs()
    print(  # shown with -s: what the run went through
        f"{kills} kills cut {cut_short} deliveries short; {sum(arrivals.values())} arrivals of {len(sent)} "
        f"deliveries ({sum(arrivals.values()) - len(sent)} duplicates deduplicated), {reaped} reaped, "
        f"{time.monotonic() - started:.1f} s"
    )
