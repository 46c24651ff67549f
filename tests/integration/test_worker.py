"""The worker's threads, run in this process on the real database."""

from __future__ import annotations

import datetime
import gc
import threading
import time
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models.signals import post_delete
from django.utils import timezone

from countermand.integration import queue
from countermand.integration.db import db_now, listen_connection_params
from countermand.integration.models import IntegrationJob, JobDefinition
from countermand.integration.services import job_run
from countermand.integration.worker import FinishBatcher, Worker, WorkerOptions

Status = IntegrationJob.Status
pytestmark = pytest.mark.django_db(transaction=True)
LEASE = 2.0


def test_a_slow_purge_does_not_starve_the_heartbeat_so_a_running_job_keeps_its_lease(request):
    definition = JobDefinition.objects.create(name="Sleep", integration_processor="NoOp")
    definition.parameters.create(name="SleepSeconds", value_type="Number", sequence=1)
    old = timezone.now() - datetime.timedelta(days=40)
    IntegrationJob.objects.bulk_create(
        IntegrationJob(
            definition=definition,
            status=Status.SUCCESS,
            schedule_at=old,
            finished_at=old,
            idempotency_key=f"old-{uuid.uuid4()}",
        )
        for _ in range(600)
    )

    # Each deleted job costs 5 ms (Django's post_delete hook, called inside the purge's transaction):
    # the 600 old jobs take the purge over 3 s, longer than a lease; one batch of 100 about half a second.
    def slow_delete(**_kwargs: object) -> None:
        time.sleep(0.005)

    post_delete.connect(slow_delete, sender=IntegrationJob, weak=False)
    request.addfinalizer(lambda: post_delete.disconnect(slow_delete, sender=IntegrationJob))
    job = job_run(definition_id=definition.pk, parameters={"SleepSeconds": "5"}, actor_id=None)
    worker = Worker(
        WorkerOptions(
            concurrency=1, lease_seconds=LEASE, heartbeat_seconds=0.4, poll_seconds=0.1, worker_id="slow-purge"
        )
    )
    thread = threading.Thread(target=lambda: (worker.run(), connection.close()))
    thread.start()
    try:
        purge_outlasted_a_lease = False
        while True:
            row = IntegrationJob.objects.filter(pk=job.pk).values("status", "started_at", "lease_expires_at").get()
            if row["status"] != Status.IN_PROCESS:
                if row["status"] == Status.QUEUED and row["started_at"] is None:
                    time.sleep(0.05)  # not claimed yet
                    continue
                break
            now = db_now()
            assert row["lease_expires_at"] > now, "the running job's lease expired while the purge ran"
            assert queue.leases_reap() == []  # a reaper elsewhere finds nothing to take
            purging = IntegrationJob.objects.filter(finished_at__lt=timezone.now() - datetime.timedelta(days=30))
            if (now - row["started_at"]).total_seconds() > LEASE + 0.5 and purging.exists():
                purge_outlasted_a_lease = True
            time.sleep(0.1)
    finally:
        worker.stop()
        thread.join(timeout=30)
        gc.collect()  # the job thread's database connection goes with the thread
    job.refresh_from_db()
    assert job.status == Status.SUCCESS
    assert job.attempt == 1
    assert not job.logs.filter(message__contains="expired").exists()
    assert purge_outlasted_a_lease, "the purge was not slow enough to prove anything"
    assert not IntegrationJob.objects.filter(finished_at__lt=timezone.now() - datetime.timedelta(days=30)).exists()


def test_the_finish_batcher_records_outcomes_that_end_together_and_isolates_one_that_cannot_be_recorded(
    monkeypatch,
):
    definition = JobDefinition.objects.create(name="Batch", integration_processor="NoOp")
    jobs = [job_run(definition_id=definition.pk, parameters={}, actor_id=None) for _ in range(3)]
    claims = queue.claim_jobs(worker_id="batcher", limit=3, lease_seconds=30)
    broken = claims[1].job_id
    real_finish = queue.attempts_finish
    batches: list[list[int]] = []

    def finish_or_fail(attempts, **kwargs):
        batches.append([job_id for job_id, _, _ in attempts])
        if any(job_id == broken for job_id, _, _ in attempts):
            raise RuntimeError("the handler of this job is broken")
        return real_finish(attempts, **kwargs)

    monkeypatch.setattr(queue, "attempts_finish", finish_or_fail)
    batcher = FinishBatcher()
    results: dict[int, object] = {}
    gate = threading.Barrier(3)

    def end(claim):
        gate.wait()
        try:
            results[claim.job_id] = batcher.finish(claim.job_id, claim.attempt, queue.AttemptOutcome(kind="success"))
        except RuntimeError as exc:
            results[claim.job_id] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=end, args=(claim,)) for claim in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    batcher.stop()
    assert isinstance(results[broken], RuntimeError)
    statuses = dict(IntegrationJob.objects.filter(pk__in=[j.pk for j in jobs]).values_list("id", "status"))
    assert statuses[broken] == Status.IN_PROCESS  # left to the reaper, as when a worker dies
    assert [statuses[c.job_id] for c in claims if c.job_id != broken] == [Status.SUCCESS, Status.SUCCESS]
    assert [broken] in batches  # tried on its own, whether it first came in a batch or alone


# --- the LISTEN connection


def test_the_listen_connection_is_the_default_database_unless_its_own_setting_names_one(settings):
    settings.COUNTERMAND_LISTEN_DATABASE_URL = ""
    default = connection.settings_dict
    params = listen_connection_params()
    assert params["dbname"] == str(default["NAME"])
    assert params.get("host", "") == (default["HOST"] or "")
    assert params.get("port", "") == str(default["PORT"] or "")

    # Behind PgBouncer: DATABASE_URL names the pooler, this the server itself; Django's own options stay out.
    settings.COUNTERMAND_LISTEN_DATABASE_URL = (
        "postgres://app:s%40cret@db.internal:5432/cm?sslmode=require&conn_max_age=60&application_name=listener"
    )
    assert listen_connection_params() == {
        "dbname": "cm",
        "user": "app",
        "password": "s@cret",
        "host": "db.internal",
        "port": "5432",
        "sslmode": "require",
        "application_name": "listener",
    }


@pytest.mark.parametrize("url", ["sqlite:///countermand.db", "db.internal:5432", "postgres://app:hunter2@db:port/cm"])
def test_a_listen_url_that_is_not_postgresql_is_refused_without_echoing_the_password(settings, url):
    settings.COUNTERMAND_LISTEN_DATABASE_URL = url
    with pytest.raises(ImproperlyConfigured, match="COUNTERMAND_LISTEN_DATABASE_URL") as raised:
        listen_connection_params()
    assert "hunter2" not in str(raised.value)
