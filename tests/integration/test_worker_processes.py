"""Real `countermand worker` processes against the test database and a real HTTP fake ERP."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from django.db.models import Count

from countermand.cancellations.models import CancellationRequest
from countermand.integration.models import IntegrationConnection, IntegrationJob, IntegrationJobLog, JobDefinition
from countermand.integration.services import job_run
from tests.integration.conftest import ROOT, WORKER_ROUTES, cancel, database_url, job_statuses
from tests.waiting import wait_until

State = CancellationRequest.State
Status = IntegrationJob.Status
pytestmark = pytest.mark.django_db(transaction=True)


def states(requests) -> list[str]:
    return list(CancellationRequest.objects.filter(pk__in=[r.pk for r in requests]).values_list("state", flat=True))


def test_an_erp_outage_opens_the_breaker_spends_no_attempts_and_everything_is_delivered_after(
    erp_shop, fake_erp, workers
):
    IntegrationConnection.objects.update(breaker_threshold=3, breaker_cooldown_seconds=1, max_concurrent_jobs=4)
    JobDefinition.objects.filter(name="OrderCancel").update(max_retries=3, retry_backoff_seconds=1)
    fake_erp.fail_status = 503
    requests = [cancel(erp_shop) for _ in range(20)]
    workers.start("--concurrency", "4")
    wait_until(
        lambda: IntegrationConnection.objects.get().breaker_state != "Closed", timeout=20, message="breaker opens"
    )
    # The scenario: the outage lasts 4 s more; without the breaker every job would use up its 4 attempts by then.
    time.sleep(4)
    calls_during_outage = fake_erp.failed_calls
    fake_erp.fail_status = 0
    wait_until(lambda: set(states(requests)) == {State.CONFIRMED}, timeout=30, message="all confirmed")
    # 3 failures open the breaker, up to 4 calls were in flight, then about one probe per second of cool-down
    assert calls_during_outage <= 3 + 4 + 6
    assert Status.FAILURE not in job_statuses()
    assert all(fake_erp.effects[r.idempotency_key] == 1 for r in requests)
    jobs = IntegrationJob.objects.filter(pk__in=[r.job_id for r in requests])
    assert max(job.attempt - (job.max_attempts - 4) for job in jobs) <= 3  # attempts that counted
    assert IntegrationJobLog.objects.filter(message__contains="this attempt does not count").exists()
    assert IntegrationConnection.objects.get().breaker_state == "Closed"


def test_refusals_slow_answers_and_confirmations_end_as_the_erp_said(erp_shop, fake_erp, workers):
    JobDefinition.objects.filter(name="OrderCancel").update(timeout_seconds=1, retry_backoff_seconds=1)
    ok, refused, slow = (cancel(erp_shop) for _ in range(3))
    fake_erp.refuse[refused.order.erp_order_number] = "Shipped yesterday."
    fake_erp.slow_first[slow.order.erp_order_number] = 3.0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    workers.start("--concurrency", "4", "--metrics-port", str(metrics_port))
    wait_until(
        lambda: State.SENT not in states([ok, refused, slow]) and State.REQUESTED not in states([ok, refused, slow]),
        timeout=20,
    )
    for request in (ok, refused, slow):
        request.refresh_from_db()
    assert ok.state == State.CONFIRMED
    assert ok.order.status == "Cancelled"
    assert refused.state == State.DENIED
    assert refused.erp_message == "Shipped yesterday."
    assert refused.order.status == "Submitted"
    assert slow.state == State.CONFIRMED
    slow_job = IntegrationJob.objects.get(pk=slow.job_id)
    assert slow_job.attempt == 2
    assert slow_job.logs.filter(message__contains="did not answer within").exists()
    assert fake_erp.deliveries[slow.idempotency_key] == 2
    assert fake_erp.effects[slow.idempotency_key] == 1
    # the worker's own metrics: ERP latency by result, attempts and cancellation outcomes
    metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
    connection = IntegrationConnection.objects.get().name
    assert f'countermand_erp_request_seconds_count{{connection="{connection}",result="2xx"}} 2.0' in metrics
    assert f'countermand_erp_request_seconds_count{{connection="{connection}",result="4xx"}} 1.0' in metrics
    assert f'countermand_erp_request_seconds_count{{connection="{connection}",result="timeout"}} 1.0' in metrics
    assert 'countermand_job_attempts_total{definition="OrderCancel",outcome="timeout"} 1.0' in metrics
    assert 'countermand_cancellation_outcomes_total{outcome="confirmed"} 2.0' in metrics
    assert 'countermand_cancellation_outcomes_total{outcome="denied"} 1.0' in metrics


def test_a_processor_that_overruns_the_timeout_is_abandoned_and_its_late_outcome_discarded(workers):
    definition = JobDefinition.objects.create(
        name="Hang", integration_processor="NoOp", timeout_seconds=1, max_retries=1, retry_backoff_seconds=1
    )
    definition.parameters.create(name="SleepSeconds", value_type="Number", sequence=1)
    job = job_run(definition_id=definition.pk, parameters={"SleepSeconds": "3"}, actor_id=None)
    workers.start("--concurrency", "2")
    wait_until(lambda: IntegrationJob.objects.get(pk=job.pk).status == Status.FAILURE, timeout=20)
    # Both attempts' threads come back late, after the watchdog gave their attempts up.
    wait_until(
        lambda: job.logs.filter(message__contains="its outcome was discarded").count() == 2,
        timeout=10,
        message=lambda: "two late outcomes discarded; log: " + str(list(job.logs.values_list("message", flat=True))),
    )
    job.refresh_from_db()
    assert job.status == Status.FAILURE
    assert job.attempt == 2
    assert job.logs.filter(message__startswith="The attempt overran the job's timeout of 1 s").count() == 2


def test_two_workers_never_run_the_same_attempt(workers):
    definition = JobDefinition.objects.create(name="Noop", integration_processor="NoOp")
    workers.start("--concurrency", "4", name="a")
    workers.start("--concurrency", "4", name="b")
    wait_until(lambda: all(f"worker {w}: concurrency" in workers.logs() for w in "ab"), timeout=30)
    for _ in range(300):
        job_run(definition_id=definition.pk, parameters={}, actor_id=None)
    wait_until(lambda: job_statuses() == {Status.SUCCESS: 300}, timeout=60, message=lambda: str(job_statuses()))
    starts = (
        IntegrationJobLog.objects.filter(message__startswith="Attempt ", message__contains=" started by worker ")
        .values("job_id", "attempt")
        .annotate(n=Count("id"))
    )
    assert len(starts) == 300
    assert {s["n"] for s in starts} == {1}
    by_worker = {
        w: IntegrationJobLog.objects.filter(message__contains=f"started by worker {w}.").count() for w in ("a", "b")
    }
    assert by_worker["a"] > 0
    assert by_worker["b"] > 0
    assert sum(by_worker.values()) == 300


def test_a_recurring_job_runs_exactly_once_per_slot_with_three_workers(workers):
    definition = JobDefinition.objects.create(name="Tick", integration_processor="NoOp", recurring_interval_seconds=2)
    for name in ("a", "b", "c"):
        workers.start("--concurrency", "2", name=name)
    wait_until(lambda: all(f"worker {w}: concurrency" in workers.logs() for w in "abc"), timeout=30)
    wait_until(
        lambda: IntegrationJob.objects.filter(definition=definition, status=Status.SUCCESS).count() >= 3,
        timeout=30,
        message="three slots run",
    )
    workers.stop_all()
    jobs = list(IntegrationJob.objects.filter(definition=definition).order_by("schedule_at"))
    assert len(jobs) >= 3
    slots = [job.schedule_at for job in jobs]
    assert len(set(j.schedule_slot for j in jobs)) == len(jobs)
    assert all((b - a).total_seconds() == 2 for a, b in itertools.pairwise(slots))  # no slot skipped
    *earlier, newest = jobs
    seen = [(job.schedule_slot, job.status, job.attempt) for job in jobs]
    assert all(job.status == Status.SUCCESS and job.attempt == 1 for job in earlier), seen
    # The newest slot may have come due as the workers were stopping: run once, or handed back unstarted.
    assert newest.status in (Status.SUCCESS, Status.QUEUED), seen
    starts = IntegrationJobLog.objects.filter(job__definition=definition, message__contains="started by worker")
    assert starts.count() == sum(job.status == Status.SUCCESS for job in jobs), seen


def test_sigterm_lets_a_running_job_finish(erp_shop, fake_erp, workers):
    fake_erp.delay = 3
    request = cancel(erp_shop)
    proc = workers.start("--grace-seconds", "15")
    # The attempt is running once its delivery reaches the ERP (a job claimed but not started would be handed back).
    wait_until(lambda: fake_erp.in_flight == 1, timeout=15, message="the delivery reaches the ERP")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    request.refresh_from_db()
    assert request.state == State.CONFIRMED
    assert IntegrationJob.objects.get(pk=request.job_id).status == Status.SUCCESS
    assert fake_erp.deliveries[request.idempotency_key] == 1


def test_sigterm_hands_back_a_job_that_does_not_finish_within_the_grace_period(workers):
    definition = JobDefinition.objects.create(name="Nap", integration_processor="NoOp")
    definition.parameters.create(name="SleepSeconds", value_type="Number", sequence=1)
    job = job_run(definition_id=definition.pk, parameters={"SleepSeconds": "60"}, actor_id=None)
    proc = workers.start("--grace-seconds", "0.5")
    wait_until(lambda: IntegrationJob.objects.get(pk=job.pk).status == Status.IN_PROCESS, timeout=15)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert time.monotonic() - started < 5
    job.refresh_from_db()
    assert job.status == Status.QUEUED
    assert job.attempt == 1
    assert job.max_attempts == job.definition.max_retries + 2
    assert job.logs.filter(message__contains="handed back").exists()


def test_a_burst_worker_runs_what_is_due_and_exits(workers):
    definition = JobDefinition.objects.create(name="Noop", integration_processor="NoOp")
    for _ in range(5):
        job_run(definition_id=definition.pk, parameters={}, actor_id=None)
    env = {**os.environ, "DATABASE_URL": database_url()}
    done = subprocess.run(
        [sys.executable, "-m", "countermand", "worker", "--burst"], cwd=ROOT, env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert job_statuses() == {Status.SUCCESS: 5}


def test_run_job_queues_a_run_with_parameters_and_waits_for_the_worker(workers):
    definition = JobDefinition.objects.create(name="Report", integration_processor="NoOp")
    definition.parameters.create(name="Days", value_type="Number", is_required=True, sequence=1)
    env = {**os.environ, "DATABASE_URL": database_url()}
    bad = subprocess.run(
        [sys.executable, "-m", "countermand", "run-job", "Report", "--param", "Days=soon"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode != 0
    assert "Days takes a number value" in bad.stderr
    workers.start()
    done = subprocess.run(
        [sys.executable, "-m", "countermand", "run-job", "Report", "--param", "Days=7", "--wait", "--timeout", "30"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    job = IntegrationJob.objects.get()
    assert f"Job #{job.pk}: Success" in done.stdout
    assert {p.name: p.value for p in job.parameters.all()} == {"Days": "7"}


@pytest.mark.parametrize("route", WORKER_ROUTES, indirect=True)
def test_a_queued_job_wakes_a_sleeping_worker_notify_on_postgresql_polling_on_sqlite(workers, route):
    from django.db import connection

    definition = JobDefinition.objects.create(name="Noop", integration_processor="NoOp")
    # PostgreSQL: the worker polls only every 60 s, so only NOTIFY can wake it in time.
    poll = "60" if connection.vendor == "postgresql" else "0.5"
    workers.start("--poll-seconds", poll, COUNTERMAND_WORKER_POLL_SECONDS=poll)
    warm_up = job_run(definition_id=definition.pk, parameters={}, actor_id=None)
    wait_until(lambda: IntegrationJob.objects.get(pk=warm_up.pk).status == Status.SUCCESS, timeout=30)
    # The scenario: the worker has been idle for a second, so it is asleep (no state shows that from outside).
    time.sleep(1)
    if route.pgbouncer is None:
        job = job_run(definition_id=definition.pk, parameters={}, actor_id=None)
        took = wait_until(
            lambda: IntegrationJob.objects.get(pk=job.pk).status == Status.SUCCESS, timeout=10, interval=0.02
        )
        assert took < 2.0
        return
    # Through PgBouncer (transaction pooling): another process queues the job through the pooler, so its
    # NOTIFY goes through it too; the worker's queries go through it, its LISTEN straight to the server.
    queued = subprocess.run(
        [sys.executable, "-m", "countermand", "run-job", "Noop"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": workers.env["DATABASE_URL"]},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert queued.returncode == 0, queued.stdout + queued.stderr
    job_id = int(queued.stdout.split("Queued job #")[1].split()[0])
    wait_until(lambda: IntegrationJob.objects.get(pk=job_id).status == Status.SUCCESS, timeout=10, interval=0.02)
    job = IntegrationJob.objects.get(pk=job_id)
    assert job.started_at is not None
    assert (job.started_at - job.created_at).total_seconds() < 2.0  # woken, not polled (every 60 s)
    assert route.pgbouncer.transactions(connection.settings_dict["NAME"]) > 0
    port = connection.settings_dict["PORT"] or 5432
    assert f"listening for countermand_jobs on 127.0.0.1:{port}/" in workers.logs()
