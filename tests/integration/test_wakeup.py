"""Wake-ups after commit: a sleeping worker starts a committed job at once, on both databases."""

from __future__ import annotations

import gc
import os
import socket
import threading
import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from countermand.integration import wakeup
from countermand.integration.models import IntegrationJob, JobDefinition
from countermand.integration.services import job_run
from countermand.integration.worker import Worker, WorkerOptions
from tests.waiting import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
Status = IntegrationJob.Status


def _noop_definition() -> JobDefinition:
    return JobDefinition.objects.create(name="WakeNoOp", integration_processor="NoOp")


def _listening(directory) -> wakeup.WakeSocket | None:
    return None if directory is None else wakeup.WakeSocket(directory)


def test_a_committed_job_wakes_a_sleeping_worker_long_before_its_poll():
    definition = _noop_definition()
    worker = Worker(WorkerOptions(concurrency=2, poll_seconds=60, worker_id="wake-test"))
    thread = threading.Thread(target=lambda: (worker.run(), connection.close()))
    thread.start()
    try:
        time.sleep(1.5)  # the worker has looked once, found nothing and sleeps for its 60 s poll
        job = job_run(definition_id=definition.pk, parameters={}, actor_id=None)
        wait_until(
            lambda: IntegrationJob.objects.filter(pk=job.pk, status=Status.SUCCESS).exists(),
            timeout=10,
            message="the worker did not wake up for the committed job",
        )
    finally:
        worker.stop()
        thread.join(timeout=30)
        gc.collect()


def test_jobs_queued_in_one_transaction_wake_workers_once():
    definition = _noop_definition()
    listener = _listening(wakeup.wake_directory())
    try:
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            for _ in range(5):
                job_run(definition_id=definition.pk, parameters={}, actor_id=None)
        notifies = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("NOTIFY")]
        if connection.vendor == "postgresql":
            assert len(notifies) == 1
        else:
            assert notifies == []
            assert listener is not None
            assert listener.socket.recv(64) == b"!"
            listener.socket.setblocking(False)
            with pytest.raises(BlockingIOError):
                listener.socket.recv(64)  # one datagram for the transaction, not one per job
    finally:
        if listener is not None:
            listener.close()


def test_a_rolled_back_transaction_wakes_nobody():
    definition = _noop_definition()
    listener = _listening(wakeup.wake_directory())
    try:
        with CaptureQueriesContext(connection) as queries:
            with transaction.atomic():
                job_run(definition_id=definition.pk, parameters={}, actor_id=None)
                transaction.set_rollback(True)
            if listener is not None:
                assert not listener.wait(0.2)
        if connection.vendor == "postgresql":
            # NOTIFY ran inside the transaction: PostgreSQL drops it with the rollback.
            assert any(q["sql"].startswith("NOTIFY") for q in queries.captured_queries)
        assert not IntegrationJob.objects.exists()
    finally:
        if listener is not None:
            listener.close()


def test_the_socket_of_a_worker_that_died_is_removed_by_the_next_sender():
    if connection.vendor != "sqlite":
        # PostgreSQL wakes workers with NOTIFY: there is no socket directory to tidy.
        assert wakeup.wake_directory() is None
        return
    directory = wakeup.wake_directory()
    assert directory is not None
    directory.mkdir(parents=True, exist_ok=True)
    dead = directory / f"dead-{os.getpid()}{wakeup.SOCKET_SUFFIX}"
    orphan = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    orphan.bind(str(dead))
    orphan.close()  # the file stays, nobody reads it: a worker killed with SIGKILL
    job_run(definition_id=_noop_definition().pk, parameters={}, actor_id=None)
    assert not dead.exists()
