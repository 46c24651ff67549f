"""Queue semantics on the real database: claim, fencing, leases, reaper, backoff, breaker, limits,
dedupe and retention."""

from __future__ import annotations

import datetime
import random
import threading
import time

import pytest
from django.db import connection as db_connection
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from countermand.cancellations.models import CancellationRequest
from countermand.integration import queue
from countermand.integration.db import db_now
from countermand.integration.joblog import LogLine
from countermand.integration.models import IntegrationConnection, IntegrationJob, JobDefinition
from countermand.integration.services import DuplicateJob, job_enqueue, job_run
from tests.factories import ConnectionFactory, OrderFactory
from tests.integration.conftest import cancel

Status = IntegrationJob.Status
Breaker = IntegrationConnection.BreakerState
pytestmark = pytest.mark.django_db


@pytest.fixture
def noop():
    return JobDefinition.objects.create(name="Noop", integration_processor="NoOp", max_retries=2)


@pytest.fixture
def erp_noop():
    """NoOp jobs that count against a connection's limit and breaker."""
    conn = ConnectionFactory(
        name="Limited ERP", max_concurrent_jobs=2, breaker_threshold=2, breaker_cooldown_seconds=60
    )
    return JobDefinition.objects.create(
        name="ErpNoop", integration_processor="NoOp", connection=conn, max_retries=1, retry_backoff_seconds=0
    )


def enqueue(definition, n=1, **kwargs):
    return [job_enqueue(definition=definition, **kwargs) for _ in range(n)]


def transient(error="ERP down"):
    return queue.AttemptOutcome(kind=queue.TRANSIENT, error=error)


def test_a_claim_takes_due_jobs_in_order_starts_a_new_attempt_and_leases_it(noop):
    later = enqueue(noop, schedule_at=timezone.now() + datetime.timedelta(hours=1))[0]
    first, second = enqueue(noop, 2)
    claims = queue.claim_jobs(worker_id="w1", limit=5, lease_seconds=30)
    assert [c.job_id for c in claims] == [first.pk, second.pk]
    assert all(c.attempt == 1 for c in claims)
    job = IntegrationJob.objects.get(pk=first.pk)
    assert job.status == Status.IN_PROCESS
    assert job.lease_owner == "w1"
    assert job.lease_expires_at > timezone.now() + datetime.timedelta(seconds=25)
    assert IntegrationJob.objects.get(pk=later.pk).status == Status.QUEUED
    assert queue.claim_jobs(worker_id="w2", limit=5, lease_seconds=30) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_never_get_the_same_job():
    definition = JobDefinition.objects.create(name="Noop", integration_processor="NoOp")
    enqueue(definition, 120)
    got: dict[str, list[int]] = {}
    errors = []

    def claimer(name):
        mine = got.setdefault(name, [])
        try:
            while True:
                claims = queue.claim_jobs(worker_id=name, limit=3, lease_seconds=30)
                if not claims:
                    break
                mine += [c.job_id for c in claims]
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    claimed = [job_id for ids in got.values() for job_id in ids]
    assert len(claimed) == len(set(claimed)) == 120


def test_finishing_is_fenced_by_the_attempt_so_a_worker_that_lost_the_job_changes_nothing(noop):
    job = enqueue(noop)[0]
    old = queue.claim_jobs(worker_id="w1", limit=1, lease_seconds=30)[0]
    IntegrationJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - datetime.timedelta(seconds=1))
    queue.leases_reap()
    new = queue.claim_jobs(worker_id="w2", limit=1, lease_seconds=30)[0]
    assert new.attempt == old.attempt + 1
    late = queue.attempt_finish(job_id=job.pk, attempt=old.attempt, outcome=queue.AttemptOutcome(kind=queue.SUCCESS))
    assert not late.applied
    job.refresh_from_db()
    assert job.status == Status.IN_PROCESS
    assert job.lease_owner == "w2"
    done = queue.attempt_finish(job_id=job.pk, attempt=new.attempt, outcome=queue.AttemptOutcome(kind=queue.SUCCESS))
    assert done.applied
    assert done.status == Status.SUCCESS


def test_the_heartbeat_renews_held_leases_and_reports_lost_jobs_and_cancel_requests(noop):
    a, b, c = enqueue(noop, 3)
    claims = {cl.job_id: cl.attempt for cl in queue.claim_jobs(worker_id="w1", limit=3, lease_seconds=1)}
    IntegrationJob.objects.filter(pk=b.pk).update(lease_owner="someone-else")
    IntegrationJob.objects.filter(pk=c.pk).update(cancel_requested=True)
    report = queue.leases_renew(worker_id="w1", held=claims, lease_seconds=60)
    assert report.lost == {b.pk}
    assert report.cancel_requested == {c.pk}
    assert IntegrationJob.objects.get(pk=a.pk).lease_expires_at > timezone.now() + datetime.timedelta(seconds=50)


def test_the_reaper_requeues_jobs_of_dead_workers_and_fails_them_when_attempts_are_used_up(erp_shop):
    JobDefinition.objects.filter(name="OrderCancel").update(max_retries=1)
    request = cancel(erp_shop)
    for expected in (Status.QUEUED, Status.FAILURE):
        queue.claim_jobs(worker_id="dead", limit=1, lease_seconds=30)
        IntegrationJob.objects.filter(pk=request.job_id).update(
            lease_expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
        (finish,) = queue.leases_reap()
        assert finish.status == expected
    job = IntegrationJob.objects.get(pk=request.job_id)
    assert job.logs.filter(level="Warn", message__contains="lease of worker dead").count() == 2
    request.refresh_from_db()
    assert request.state == CancellationRequest.State.FAILED


def test_the_reaper_leaves_a_job_whose_lease_is_still_valid(noop):
    enqueue(noop)
    queue.claim_jobs(worker_id="w1", limit=1, lease_seconds=30)
    assert queue.leases_reap() == []


def test_backoff_doubles_per_attempt_with_jitter_and_a_cap():
    rng = random.Random(7)
    for attempt, full in ((1, 10), (2, 20), (3, 40), (4, 80)):
        delays = [queue.backoff_seconds(10, attempt, rng) for _ in range(200)]
        assert full / 2 <= min(delays)
        assert max(delays) <= full
        assert max(delays) - min(delays) > full / 4  # jitter spreads retries out
    assert queue.backoff_seconds(10, 40) <= queue.MAX_BACKOFF_SECONDS
    assert queue.backoff_seconds(0, 3) == 0


def test_a_retry_waits_for_its_backoff(noop):
    JobDefinition.objects.filter(pk=noop.pk).update(retry_backoff_seconds=30)
    job = enqueue(noop)[0]
    claim = queue.claim_jobs(worker_id="w1", limit=1, lease_seconds=30)[0]
    finish = queue.attempt_finish(job_id=job.pk, attempt=claim.attempt, outcome=queue.AttemptOutcome(kind="failed"))
    assert finish.status == Status.QUEUED
    assert timezone.now() + datetime.timedelta(seconds=14) < finish.retry_at
    assert queue.claim_jobs(worker_id="w1", limit=1, lease_seconds=30) == []


def test_the_connection_limit_holds_across_claimers(erp_noop):
    enqueue(erp_noop, 5)
    assert len(queue.claim_jobs(worker_id="w1", limit=5, lease_seconds=30)) == 2
    assert queue.claim_jobs(worker_id="w2", limit=5, lease_seconds=30) == []


def test_jobs_of_an_inactive_connection_wait(erp_noop):
    enqueue(erp_noop)
    IntegrationConnection.objects.update(is_active=False)
    assert queue.claim_jobs(worker_id="w1", limit=5, lease_seconds=30) == []


def test_the_breaker_opens_after_consecutive_transient_failures_and_then_claims_nothing(erp_noop):
    enqueue(erp_noop, 4)
    claims = queue.claim_jobs(worker_id="w1", limit=5, lease_seconds=30)
    finishes = [queue.attempt_finish(job_id=c.job_id, attempt=c.attempt, outcome=transient()) for c in claims]
    conn = IntegrationConnection.objects.get()
    assert conn.breaker_state == Breaker.OPEN
    assert conn.breaker_open_until > timezone.now()
    assert [f.refunded for f in finishes] == [False, False]
    assert queue.claim_jobs(worker_id="w1", limit=5, lease_seconds=30) == []
    # the jobs keep their remaining attempts while the breaker is open
    assert IntegrationJob.objects.filter(status=Status.QUEUED).count() == 4


def test_an_attempt_failing_while_the_breaker_is_open_is_not_counted(erp_noop):
    enqueue(erp_noop, 2)
    first, second = queue.claim_jobs(worker_id="w1", limit=2, lease_seconds=30)
    IntegrationConnection.objects.update(breaker_threshold=1)
    queue.attempt_finish(job_id=first.job_id, attempt=first.attempt, outcome=transient())
    late = queue.attempt_finish(job_id=second.job_id, attempt=second.attempt, outcome=transient())
    assert late.refunded
    assert late.status == Status.QUEUED
    assert IntegrationJob.objects.get(pk=second.job_id).max_attempts == 3


def test_after_the_cool_down_one_probe_goes_through_and_its_success_closes_the_breaker(erp_noop):
    enqueue(erp_noop, 3)
    IntegrationConnection.objects.update(
        breaker_state=Breaker.OPEN,
        breaker_failures=2,
        breaker_open_until=timezone.now() - datetime.timedelta(seconds=1),
    )
    (probe,) = queue.claim_jobs(worker_id="w1", limit=5, lease_seconds=30)
    assert probe.probe
    assert IntegrationConnection.objects.get().breaker_state == Breaker.HALF_OPEN
    assert queue.claim_jobs(worker_id="w2", limit=5, lease_seconds=30) == []
    queue.attempt_finish(job_id=probe.job_id, attempt=probe.attempt, outcome=queue.AttemptOutcome(kind="success"))
    conn = IntegrationConnection.objects.get()
    assert conn.breaker_state == Breaker.CLOSED
    assert conn.breaker_failures == 0
    assert len(queue.claim_jobs(worker_id="w2", limit=5, lease_seconds=30)) == 2


def test_a_failed_probe_reopens_the_breaker_without_spending_the_attempt(erp_noop):
    job = enqueue(erp_noop)[0]
    IntegrationConnection.objects.update(
        breaker_state=Breaker.OPEN,
        breaker_failures=2,
        breaker_open_until=timezone.now() - datetime.timedelta(seconds=1),
    )
    (probe,) = queue.claim_jobs(worker_id="w1", limit=5, lease_seconds=30)
    finish = queue.attempt_finish(job_id=probe.job_id, attempt=probe.attempt, outcome=transient())
    assert finish.refunded
    assert finish.status == Status.QUEUED
    assert IntegrationConnection.objects.get().breaker_state == Breaker.OPEN
    job.refresh_from_db()
    assert job.attempt == 1
    assert job.max_attempts == 3


def test_an_erp_refusal_is_an_answer_and_resets_the_failure_count(erp_noop):
    enqueue(erp_noop)
    IntegrationConnection.objects.update(breaker_failures=1)
    (claim,) = queue.claim_jobs(worker_id="w1", limit=1, lease_seconds=30)
    queue.attempt_finish(job_id=claim.job_id, attempt=claim.attempt, outcome=queue.AttemptOutcome(kind="rejected"))
    assert IntegrationConnection.objects.get().breaker_failures == 0


def test_one_order_never_has_two_open_cancel_jobs(erp_shop):
    request = cancel(erp_shop)
    definition = JobDefinition.objects.get(name="OrderCancel")
    with pytest.raises(DuplicateJob):
        job_enqueue(
            definition=definition, parameters={"OrderNumber": "X"}, dedupe_key=f"OrderCancel:{request.order_id}"
        )
    IntegrationJob.objects.filter(pk=request.job_id).update(status=Status.SUCCESS)
    job_enqueue(definition=definition, parameters={"OrderNumber": "X"}, dedupe_key=f"OrderCancel:{request.order_id}")


def test_a_cancel_request_ends_a_failing_attempt_as_cancelled_instead_of_retrying(noop):
    job = enqueue(noop)[0]
    (claim,) = queue.claim_jobs(worker_id="w1", limit=1, lease_seconds=30)
    IntegrationJob.objects.filter(pk=job.pk).update(cancel_requested=True)
    finish = queue.attempt_finish(job_id=job.pk, attempt=claim.attempt, outcome=transient())
    assert finish.status == Status.CANCELLED


def test_a_stopping_worker_hands_a_job_back_without_spending_its_attempt(noop):
    job = enqueue(noop)[0]
    (claim,) = queue.claim_jobs(worker_id="w1", limit=1, lease_seconds=30)
    finish = queue.attempt_finish(
        job_id=job.pk, attempt=claim.attempt, outcome=queue.AttemptOutcome(kind=queue.RELEASED)
    )
    job.refresh_from_db()
    assert finish.status == Status.QUEUED
    assert job.schedule_at <= timezone.now()
    assert job.max_attempts == 4
    assert job.attempt == 1


def test_retention_deletes_old_finished_jobs_but_keeps_recent_ones_and_those_of_open_requests(erp_shop, noop):
    old = timezone.now() - datetime.timedelta(days=40)
    done_old, done_new, queued_old = (job_run(definition_id=noop.pk, parameters={}, actor_id=None) for _ in range(3))
    IntegrationJob.objects.filter(pk=done_old.pk).update(status=Status.SUCCESS, finished_at=old)
    IntegrationJob.objects.filter(pk=done_new.pk).update(status=Status.SUCCESS, finished_at=timezone.now())
    IntegrationJob.objects.filter(pk=queued_old.pk).update(schedule_at=old)
    failed_request = cancel(erp_shop)
    IntegrationJob.objects.filter(pk=failed_request.job_id).update(status=Status.FAILURE, finished_at=old)
    CancellationRequest.objects.filter(pk=failed_request.pk).update(state=CancellationRequest.State.FAILED)
    confirmed = cancel(erp_shop, order=OrderFactory(website=erp_shop.website, customer=erp_shop.customer))
    IntegrationJob.objects.filter(pk=confirmed.job_id).update(status=Status.SUCCESS, finished_at=old)
    CancellationRequest.objects.filter(pk=confirmed.pk).update(state=CancellationRequest.State.CONFIRMED)

    assert queue.jobs_purge(older_than_days=30) == 2
    left = set(IntegrationJob.objects.values_list("pk", flat=True))
    assert left == {done_new.pk, queued_old.pk, failed_request.job_id}
    confirmed.refresh_from_db()
    assert confirmed.job_id is None  # the resolved request keeps its history in OrderEvents


def test_log_lines_of_two_writers_of_one_job_get_distinct_sequences(noop):
    from countermand.integration.joblog import job_log_write

    job = enqueue(noop)[0]
    job_log_write(job_id=job.pk, lines=[LogLine("Info", "a", "x", 1), LogLine("Info", "b", "x", 1)])
    job_log_write(job_id=job.pk, lines=[LogLine("Info", "c", "y", 2)])
    assert list(job.logs.values_list("sequence", "message")) == [(1, "a"), (2, "b"), (3, "c")]


def test_db_now_is_the_database_clock_as_an_aware_utc_datetime():
    before = timezone.now()
    now = db_now()
    assert now.tzinfo == datetime.UTC
    assert before - datetime.timedelta(seconds=5) < now < timezone.now() + datetime.timedelta(seconds=5)
    if db_connection.vendor == "postgresql":
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            (server,) = cursor.fetchone()
        assert now <= server < now + datetime.timedelta(seconds=5)


def test_a_job_queued_this_very_moment_is_due_to_the_next_claim(noop):
    """Queue time and claim time come from the same clock at full precision: no job waits a tick."""
    for _ in range(20):
        job = enqueue(noop)[0]
        (claim,) = queue.claim_jobs(worker_id="w1", limit=1, lease_seconds=30)
        assert claim.job_id == job.pk


@pytest.mark.django_db(transaction=True)
def test_a_claim_locks_only_the_connections_that_have_due_jobs(erp_noop):
    """While another transaction holds the row of a connection that has nothing due, a claim of another
    connection's jobs does not wait for it. (SQLite has no row locks — a claim takes the database's write
    lock — so there it shows only that the claim takes the due connection's jobs.)"""
    idle = ConnectionFactory(name="Idle ERP")
    enqueue(erp_noop, 2)
    held, release = threading.Event(), threading.Event()

    def hold_idle_connection() -> None:
        try:
            if db_connection.vendor == "postgresql":
                with transaction.atomic():
                    IntegrationConnection.objects.select_for_update().get(pk=idle.pk)
                    held.set()
                    release.wait(10)
            else:
                held.set()
        finally:
            db_connection.close()

    holder = threading.Thread(target=hold_idle_connection)
    holder.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        claims = queue.claim_jobs(worker_id="w1", limit=5, lease_seconds=30)
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join()
    assert {c.connection_id for c in claims} == {erp_noop.connection_id}
    assert len(claims) == 2
    assert waited < 5


def test_the_purge_deletes_in_small_batches_and_at_most_its_bound_per_call(noop):
    old = timezone.now() - datetime.timedelta(days=40)
    jobs = [job_run(definition_id=noop.pk, parameters={}, actor_id=None) for _ in range(7)]
    IntegrationJob.objects.filter(pk__in=[j.pk for j in jobs]).update(status=Status.SUCCESS, finished_at=old)
    assert queue.jobs_purge(older_than_days=30, batch=2, max_batches=2) == 4  # the bound: the rest waits
    assert IntegrationJob.objects.count() == 3
    assert queue.jobs_purge(older_than_days=30, batch=2, max_batches=2) == 3
    assert not IntegrationJob.objects.exists()
    assert queue.PURGE_BATCH * queue.PURGE_MAX_BATCHES <= 10_000
    assert queue.PURGE_BATCH <= 100


def test_outcomes_finished_together_are_each_decided_on_their_own_in_one_transaction(noop):
    ok, failing, lost = enqueue(noop, 3)
    claims = {c.job_id: c for c in queue.claim_jobs(worker_id="w1", limit=3, lease_seconds=30)}
    IntegrationJob.objects.filter(pk=lost.pk).update(attempt=9)  # another worker took it meanwhile
    with CaptureQueriesContext(db_connection) as queries:
        finishes = queue.attempts_finish(
            [
                (ok.pk, claims[ok.pk].attempt, queue.AttemptOutcome(kind=queue.SUCCESS, result={"n": 1})),
                (failing.pk, claims[failing.pk].attempt, transient()),
                (lost.pk, claims[lost.pk].attempt, queue.AttemptOutcome(kind=queue.SUCCESS)),
            ]
        )
    assert [f.applied for f in finishes] == [True, True, False]
    assert [f.status for f in finishes[:2]] == [Status.SUCCESS, Status.QUEUED]
    ok.refresh_from_db()
    failing.refresh_from_db()
    assert (ok.status, ok.result, ok.lease_owner) == (Status.SUCCESS, {"n": 1}, "")
    assert ok.finished_at is not None
    assert (failing.status, failing.error, failing.finished_at) == (Status.QUEUED, "ERP down", None)
    assert failing.logs.filter(message__contains="failed (transient)").exists()
    assert IntegrationJob.objects.get(pk=lost.pk).status == Status.IN_PROCESS
    commits = [q for q in queries.captured_queries if q["sql"].upper().startswith(("COMMIT", "RELEASE SAVEPOINT"))]
    assert len(commits) <= 1  # one transaction (a savepoint inside the test's transaction) for the batch


def test_the_same_attempt_twice_in_one_batch_is_applied_once(noop):
    job = enqueue(noop)[0]
    claim = queue.claim_jobs(worker_id="w1", limit=1, lease_seconds=30)[0]
    first, second = queue.attempts_finish(
        [
            (job.pk, claim.attempt, queue.AttemptOutcome(kind=queue.TIMEOUT, error="overran")),
            (job.pk, claim.attempt, queue.AttemptOutcome(kind=queue.SUCCESS)),
        ]
    )
    assert (first.applied, second.applied) == (True, False)
    job.refresh_from_db()
    assert job.status == Status.QUEUED


def test_a_claim_reads_the_attempt_it_starts_and_stamps_the_definitions_last_run(noop):
    enqueue(noop, 2)
    noop.last_run_at = None
    noop.save(update_fields=["last_run_at"])
    claims = queue.claim_jobs(worker_id="w1", limit=2, lease_seconds=30)
    rows = dict(IntegrationJob.objects.filter(pk__in=[c.job_id for c in claims]).values_list("id", "attempt"))
    assert {c.job_id: c.attempt for c in claims} == rows
    assert all(c.max_attempts == 3 and c.definition_id == noop.pk and c.connection_id is None for c in claims)
    noop.refresh_from_db()
    assert noop.last_run_at is not None


def test_the_claim_of_an_erp_job_logs_its_start_before_the_attempt_runs_and_the_run_logs_it_once(erp_noop, noop):
    from countermand.integration.runner import attempt_execute

    erp_job, free_job = enqueue(erp_noop)[0], enqueue(noop)[0]
    IntegrationConnection.objects.update(
        breaker_state=Breaker.OPEN,
        breaker_failures=2,
        breaker_open_until=timezone.now() - datetime.timedelta(seconds=1),
    )
    claims = {c.job_id: c for c in queue.claim_jobs(worker_id="w1", limit=5, lease_seconds=30)}
    # Visible before the ERP is called (the call may hang, the worker die): written with the claim.
    assert list(erp_job.logs.values_list("sequence", "message")) == [
        (1, "Attempt 1 of 2 started by worker w1."),
        (2, "This attempt probes whether the ERP answers again (circuit breaker half-open)."),
    ]
    assert not free_job.logs.exists()  # a job that calls no ERP logs with its outcome, in the finish
    for claim in claims.values():
        assert attempt_execute(claim, worker_id="w1").applied
    erp_lines = list(erp_job.logs.values_list("sequence", "message"))
    assert [s for s, _ in erp_lines] == list(range(1, len(erp_lines) + 1))
    assert [m for _, m in erp_lines].count("Attempt 1 of 2 started by worker w1.") == 1
    assert free_job.logs.filter(message="Attempt 1 of 3 started by worker w1.").count() == 1
