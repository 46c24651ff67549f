"""Crash safety: worker processes killed with SIGKILL mid-delivery lose no cancellation and cause no
second effect at the ERP.

200 cancellations, real `countermand worker` processes killed (and restarted) in turn at least 5 times
while they have deliveries in flight, a real HTTP fake ERP that counts deliveries and effects per
Idempotency-Key and per order. Two routes to the database:

- direct: 2 worker processes on the database;
- pgbouncer (the PostgreSQL pass): 4 worker processes through Debian's PgBouncer in transaction pooling
  mode (at most 10 server connections for all of them), as PostgreSQL installations run many processes;
  each worker LISTENs on a direct connection (COUNTERMAND_LISTEN_DATABASE_URL).
"""

from __future__ import annotations

import signal
import time

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from countermand.cancellations.models import CancellationRequest
from countermand.integration.models import IntegrationConnection, IntegrationJob, IntegrationJobLog, JobDefinition
from tests.factories import OrderFactory
from tests.integration.conftest import WORKER_ROUTES, cancel
from tests.waiting import wait_until

State = CancellationRequest.State
Status = IntegrationJob.Status
ORDERS = 200
KILLS = 5
LIMIT = 8


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", WORKER_ROUTES, indirect=True)
def test_killed_workers_lose_no_cancellation_and_cause_no_second_effect(erp_shop, fake_erp, workers, route):
    IntegrationConnection.objects.update(max_concurrent_jobs=LIMIT)
    JobDefinition.objects.filter(name="OrderCancel").update(max_retries=10, retry_backoff_seconds=1)
    fake_erp.delay = 0.4  # deliveries are in flight long enough to be cut by a kill
    orders = OrderFactory.create_batch(ORDERS, website=erp_shop.website, customer=erp_shop.customer)
    requests = [cancel(erp_shop, order=order) for order in orders]
    keys = {r.idempotency_key for r in requests}

    slots = "abcd" if route.pgbouncer else "ab"
    names = dict.fromkeys(slots, 0)

    def start(slot: str):
        names[slot] += 1
        return workers.start("--concurrency", "4", name=f"{slot}{names[slot]}")

    procs = {slot: start(slot) for slot in slots}
    kills, cut_short = 0, 0
    started = time.monotonic()
    while kills < KILLS:
        assert time.monotonic() - started < 60, f"only {kills} kills in 60 s"
        time.sleep(1.5)  # the scenario: a kill every 1.5 s (a kill at once after a start cuts no delivery short)
        victim = slots[kills % len(slots)]
        name = f"{victim}{names[victim]}"
        in_flight = IntegrationJob.objects.filter(status=Status.IN_PROCESS, lease_owner=name).count()
        if in_flight == 0:
            continue  # not up yet, or idle: a kill now would prove nothing
        procs[victim].send_signal(signal.SIGKILL)
        procs[victim].wait()
        kills += 1
        cut_short += in_flight
        procs[victim] = start(victim)
    assert CancellationRequest.objects.filter(state__in=[State.REQUESTED, State.SENT]).exists(), (
        "the run ended before the kills; make the ERP slower"
    )

    wait_until(
        lambda: not CancellationRequest.objects.exclude(state=State.CONFIRMED).exists(),
        timeout=90,
        interval=0.25,
        message="every cancellation confirmed",
    )
    # Every cancellation reached the ERP, with the same key on every delivery, and took effect once.
    assert set(fake_erp.deliveries) == keys
    assert set(fake_erp.effects) == keys
    assert set(fake_erp.effects.values()) == {1}
    assert len(fake_erp.order_effects) == ORDERS
    assert set(fake_erp.order_effects.values()) == {1}
    assert sum(fake_erp.deliveries.values()) > ORDERS  # the kills did cut deliveries short
    assert fake_erp.max_in_flight <= LIMIT
    # No job is left InProcess, the reaper took over the killed workers' jobs, every attempt ran once.
    assert not IntegrationJob.objects.filter(status=Status.IN_PROCESS).exists()
    assert not IntegrationJob.objects.filter(lease_expires_at__lt=timezone.now(), status=Status.IN_PROCESS).exists()
    assert set(IntegrationJob.objects.values_list("status", flat=True)) == {Status.SUCCESS}
    assert cut_short >= KILLS
    reaped = IntegrationJobLog.objects.filter(message__contains="expired (the worker stopped or hung)").count()
    assert reaped >= KILLS
    runs = IntegrationJobLog.objects.filter(message__contains=" started by worker ").values("job_id", "attempt")
    assert {r["n"] for r in runs.annotate(n=Count("id"))} == {1}
    for request in CancellationRequest.objects.select_related("order"):
        assert request.order.status == "Cancelled"
    through = ""
    if route.pgbouncer:
        # The workers' queries went through PgBouncer; each worker's LISTEN went to the server itself.
        pooled = route.pgbouncer.transactions(connection.settings_dict["NAME"])
        assert pooled > ORDERS
        port = connection.settings_dict["PORT"] or 5432
        listening = workers.logs().count(f"listening for countermand_jobs on 127.0.0.1:{port}/")
        assert listening >= len(slots) + kills, workers.logs()[-3000:]
        through = f"; {len(slots)} workers, {pooled} transactions through PgBouncer, {listening} direct LISTENs"
    print(  # shown with -s: what the run went through
        f"{kills} kills cut {cut_short} deliveries short; {sum(fake_erp.deliveries.values())} deliveries, "
        f"{sum(fake_erp.effects.values())} effects, {reaped} jobs reaped, max {fake_erp.max_in_flight} in flight, "
        f"{time.monotonic() - started:.1f} s{through}"
    )
