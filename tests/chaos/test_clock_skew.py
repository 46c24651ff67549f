"""A worker whose host clock is 60 s off (Debian's libfaketime) next to a normal one: leases are stamped and
compared with the database's clock, so no live lease is reaped and every job runs once.

libfaketime is preloaded into the worker process (`LD_PRELOAD`, `FAKETIME=±60s`): its wall clock (and
everything in the process that reads it) is 60 s off. Its monotonic clock is left alone
(`FAKETIME_DONT_FAKE_MONOTONIC`), because libfaketime 0.9.10 hangs timed thread waits when it fakes that
one; `time.sleep` then fails with EINVAL under it (a libfaketime bug), which is why the worker waits on
events and the deliveries here are slowed by the fake ERP, not by a sleeping processor.

On PostgreSQL the database clock is the server's, so the skewed worker's leases carry the server's time.
On SQLite the database runs inside each process, so its clock is the process's own clock and faketime
moves it too — a SQLite database has one host, and two processes on one host share its clock unless
faketime says otherwise. There the test runs the skewed worker alone and shows what that means: it stamps
its leases with its own (skewed) database clock, keeps renewing them, and runs every job once.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from countermand.cancellations.models import CancellationRequest
from countermand.integration.db import db_now
from countermand.integration.models import IntegrationConnection, IntegrationJob, IntegrationJobLog, JobDefinition
from countermand.integration.services import job_run
from tests.integration.conftest import cancel
from tests.waiting import wait_until

State = CancellationRequest.State
Status = IntegrationJob.Status
LEASE = 2.0  # the `workers` fixture's lease; the heartbeat renews it every 0.4 s
JOBS = 4
# What `faketime --exclude-monotonic -f -60s` sets, without the wrapper: it forks, so a signal sent to it
# would not reach the worker (the multi-threaded library, for the worker's threads).
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("skew", [-60, 60])
def test_a_worker_whose_clock_is_60_s_off_reaps_no_live_lease_and_runs_every_job_once(
    erp_shop, fake_erp, workers, skew
):
    assert Path(LIBFAKETIME).exists(), "Debian's libfaketime is needed (apt-get install faketime)"
    postgres = connection.vendor == "postgresql"
    IntegrationConnection.objects.update(timeout_seconds=30)
    fake_erp.delay = 8.0  # every delivery outlasts the lease many times over: only the heartbeat keeps it
    requests = [cancel(erp_shop) for _ in range(JOBS)]
    job_ids = [r.job_id for r in requests]
    # Due for every clock, so the skewed worker has them to claim whichever way its clock is off.
    IntegrationJob.objects.filter(pk__in=job_ids).update(schedule_at=timezone.now() - datetime.timedelta(minutes=5))
    noop = JobDefinition.objects.create(name="Later", integration_processor="NoOp")
    later = job_run(definition_id=noop.pk, parameters={}, actor_id=None)
    IntegrationJob.objects.filter(pk=later.pk).update(schedule_at=db_now() + datetime.timedelta(seconds=30))

    def start(name: str):
        skewed = {"LD_PRELOAD": LIBFAKETIME, "FAKETIME": f"{skew:+d}s", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
        return workers.start("--concurrency", str(JOBS), name=name, **(skewed if name == "skewed" else {}))

    # The worker that holds the leases starts first; the other joins while the deliveries run, and its
    # reaper (every second) would take leases it reads as expired. Behind: the skewed worker holds them
    # (its stamps would be 60 s old). Ahead: the normal worker holds them (the skewed reaper's "now" would
    # be 60 s later). On SQLite the skewed worker runs alone (see above).
    holder, other = ("skewed", "normal") if skew < 0 or not postgres else ("normal", "skewed")
    start(holder)
    wait_until(
        lambda: (
            IntegrationJob.objects.filter(pk__in=job_ids, status=Status.IN_PROCESS, lease_owner=holder).count() == JOBS
        ),
        timeout=40,
        message=f"{holder} holds every job: {list(IntegrationJob.objects.values_list('status', 'lease_owner'))}\n"
        + workers.logs()[-3000:],
    )
    lease_left = [
        (expires - db_now()).total_seconds()
        for expires in IntegrationJob.objects.filter(pk__in=job_ids).values_list("lease_expires_at", flat=True)
    ]
    if postgres or holder == "normal":
        # Stamped with the database clock: a fresh lease, whatever the holder's host clock says.
        assert all(0 < left <= LEASE + 0.5 for left in lease_left), lease_left
    else:
        # SQLite: the database clock of the skewed process is its own clock, 60 s off.
        assert all(abs(left - (skew + LEASE)) < 3 for left in lease_left), lease_left
    if postgres:
        start(other)
        wait_until(lambda: f"worker {other}: concurrency" in workers.logs(), timeout=40, message=f"{other} is up")
        assert IntegrationJob.objects.filter(pk__in=job_ids, status=Status.IN_PROCESS).count() == JOBS, (
            "the deliveries ended before the second worker was up: make the ERP slower"
        )

    wait_until(
        lambda: (
            set(CancellationRequest.objects.filter(pk__in=[r.pk for r in requests]).values_list("state", flat=True))
            == {State.CONFIRMED}
        ),
        timeout=60,
        message="every cancellation confirmed",
    )
    jobs = IntegrationJob.objects.filter(pk__in=job_ids)
    assert set(jobs.values_list("status", "attempt")) == {(Status.SUCCESS, 1)}
    assert not IntegrationJobLog.objects.filter(message__contains="expired (the worker stopped or hung)").exists()
    assert (
        IntegrationJobLog.objects.filter(job_id__in=job_ids, message__contains=f"started by worker {holder}.").count()
        == JOBS
    )
    for request in requests:
        assert fake_erp.deliveries[request.idempotency_key] == 1
        assert fake_erp.effects[request.idempotency_key] == 1
    if postgres:
        # Due in 30 s by the database clock: the worker whose clock is a minute ahead did not take it early.
        assert IntegrationJob.objects.get(pk=later.pk).status == Status.QUEUED
