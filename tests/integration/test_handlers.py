"""The outcome port: a job names its handler, and the engine tells that handler how the job went."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from countermand.core.errors import Conflict
from countermand.integration import handlers, queue
from countermand.integration.handlers import JobFinished, JobOutcome, JobRef
from countermand.integration.joblog import LogLine
from countermand.integration.models import IntegrationJob, JobDefinition
from countermand.integration.services import job_cancel, job_enqueue, job_retry
from tests.integration.conftest import drain

Status = IntegrationJob.Status
pytestmark = pytest.mark.django_db


@dataclass
class RecordingHandler:
    """A handler that writes down what the engine told it."""

    started_jobs: list[JobRef] = field(default_factory=list)
    finished_jobs: list[JobFinished] = field(default_factory=list)
    in_transaction: list[bool] = field(default_factory=list)
    retry_answer: int | None = None
    refuse_retry: bool = False
    keep_ids: list[int] = field(default_factory=list)
    owned_definitions: set[str] = field(default_factory=set)

    def started(self, job: JobRef) -> dict[str, Any]:
        self.started_jobs.append(job)
        return {"heard": True}

    def finished(self, finished: JobFinished) -> list[LogLine]:
        self.finished_jobs.append(finished)
        self.in_transaction.append(connection.in_atomic_block)
        return [LogLine("Info", f"Recorder heard {finished.outcome}.", "Recorder", finished.job.attempt)]

    def retried(self, job: JobRef, *, actor_id: int | None) -> int | None:
        if self.refuse_retry:
            raise Conflict("The recorder refuses.", code="RECORDER_REFUSES")
        return self.retry_answer

    def run_requested(self, definition_name: str, *, actor_id: int | None) -> None:
        if definition_name in self.owned_definitions:
            raise handlers.ManualRunRefused(f"The recorder queues {definition_name} itself.")

    def purge_keeps(self):
        return IntegrationJob.objects.filter(pk__in=self.keep_ids).values("pk")


@pytest.fixture
def recorder(monkeypatch):
    handler = RecordingHandler()
    monkeypatch.setitem(handlers._handlers, "Recorder", handler)
    return handler


@pytest.fixture
def noop():
    return JobDefinition.objects.create(name="Noop", integration_processor="NoOp", max_retries=1)


def claim_one():
    (claim,) = queue.claim_jobs(worker_id="w1", limit=1, lease_seconds=30)
    return claim


def test_a_successful_job_tells_its_handler_succeeded_inside_the_finishing_transaction(recorder, noop):
    job = job_enqueue(definition=noop, handler="Recorder", idempotency_key="key-1")
    drain()
    (heard,) = recorder.finished_jobs
    assert heard.outcome == JobOutcome.SUCCEEDED
    assert heard.status == Status.SUCCESS
    assert heard.job == JobRef(job_id=job.pk, attempt=1, handler="Recorder", order_id=None, idempotency_key="key-1")
    assert recorder.in_transaction == [True]
    assert [j.job_id for j in recorder.started_jobs] == [job.pk]
    assert job.logs.filter(message="Recorder heard succeeded.", module_name="Recorder").exists()


def test_a_refusal_a_final_failure_and_a_cancel_each_reach_the_handler_with_their_outcome(recorder, noop):
    rejected, failing, cancelled = (job_enqueue(definition=noop, handler="Recorder") for _ in range(3))
    job_cancel(job_id=cancelled.pk, actor_id=None)
    queue.attempt_finish(
        job_id=rejected.pk,
        attempt=claim_one().attempt,
        outcome=queue.AttemptOutcome(kind=queue.REJECTED, error="no", result={"erpMessage": "no"}),
    )
    for _ in range(2):  # two attempts: the first is retried (the handler hears nothing), the second fails
        claim = claim_one()
        queue.attempt_finish(
            job_id=failing.pk, attempt=claim.attempt, outcome=queue.AttemptOutcome(kind=queue.FAILED, error="bug")
        )
        IntegrationJob.objects.filter(pk=failing.pk).update(schedule_at=timezone.now())
    outcomes = {f.job.job_id: (f.outcome, f.status) for f in recorder.finished_jobs}
    assert outcomes == {
        rejected.pk: (JobOutcome.REJECTED, Status.SUCCESS_WITH_WARNINGS),
        failing.pk: (JobOutcome.FAILED, Status.FAILURE),
        cancelled.pk: (JobOutcome.CANCELLED, Status.CANCELLED),
    }
    assert len(recorder.finished_jobs) == 3
    assert next(f for f in recorder.finished_jobs if f.job.job_id == rejected.pk).result == {"erpMessage": "no"}


def test_a_job_whose_handler_is_not_installed_runs_and_says_nobody_heard_it(noop):
    job = job_enqueue(definition=noop, handler="Uninstalled")
    drain()
    job.refresh_from_db()
    assert job.status == Status.SUCCESS
    assert job.logs.filter(level="Warn", message__contains="No handler 'Uninstalled' is installed").exists()


def test_a_retry_copies_the_handler_unless_the_handler_queues_the_new_job_itself(recorder, noop):
    job = job_enqueue(definition=noop, handler="Recorder")
    IntegrationJob.objects.filter(pk=job.pk).update(status=Status.FAILURE, finished_at=timezone.now())
    copy = job_retry(job_id=job.pk, actor_id=None)
    assert copy.handler == "Recorder"
    assert copy.retry_of_id == job.pk

    own = job_enqueue(definition=noop)
    recorder.retry_answer = own.pk
    IntegrationJob.objects.filter(pk=copy.pk).update(status=Status.FAILURE, finished_at=timezone.now())
    assert job_retry(job_id=copy.pk, actor_id=None).pk == own.pk
    own.refresh_from_db()
    assert own.retry_of_id == copy.pk


def test_a_handler_refusing_a_retry_queues_nothing(recorder, noop):
    job = job_enqueue(definition=noop, handler="Recorder")
    IntegrationJob.objects.filter(pk=job.pk).update(status=Status.FAILURE, finished_at=timezone.now())
    recorder.refuse_retry = True
    with pytest.raises(Conflict, match="refuses"):
        job_retry(job_id=job.pk, actor_id=None)
    assert IntegrationJob.objects.count() == 1


def test_the_purge_keeps_the_jobs_a_handler_still_needs(recorder, noop):
    kept, purged = (job_enqueue(definition=noop, handler="Recorder") for _ in range(2))
    old = timezone.now() - datetime.timedelta(days=40)
    IntegrationJob.objects.update(status=Status.SUCCESS, finished_at=old)
    recorder.keep_ids = [kept.pk]
    assert queue.jobs_purge(older_than_days=30) == 1
    assert list(IntegrationJob.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not IntegrationJob.objects.filter(pk=purged.pk).exists()


def test_a_manual_run_of_a_definition_a_handler_owns_is_refused_and_queues_nothing(recorder, noop):
    from countermand.integration.services import job_run

    recorder.owned_definitions = {"Noop"}
    with pytest.raises(handlers.ManualRunRefused, match="queues Noop itself"):
        job_run(definition_id=noop.pk, parameters={}, actor_id=None)
    assert not IntegrationJob.objects.exists()


def test_a_manual_run_of_a_definition_no_handler_owns_is_queued(recorder, noop):
    from countermand.integration.services import job_run

    recorder.owned_definitions = {"Something else"}
    job = job_run(definition_id=noop.pk, parameters={}, actor_id=None)
    assert job.status == Status.QUEUED
    assert job.handler == ""


def test_retrying_a_plain_job_of_a_definition_a_handler_now_owns_is_refused(recorder, noop):
    job = job_enqueue(definition=noop)
    job_cancel(job_id=job.pk, actor_id=None)
    recorder.owned_definitions = {"Noop"}
    with pytest.raises(handlers.ManualRunRefused):
        job_retry(job_id=job.pk, actor_id=None)
    assert IntegrationJob.objects.count() == 1
