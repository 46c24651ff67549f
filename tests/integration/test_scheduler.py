"""Recurring job definitions: the slot arithmetic and one job per slot however many schedulers run."""

from __future__ import annotations

import datetime

import pytest

from countermand.integration.models import IntegrationJob, JobDefinition
from countermand.integration.scheduler import RecurringScheduler, recurring_slot

UTC = datetime.UTC
pytestmark = pytest.mark.django_db


def at(hour: int, minute: int, second: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 3, 2, hour, minute, second, tzinfo=UTC)


def test_interval_slots_are_aligned_and_cron_slots_follow_the_expression():
    every_15_min = JobDefinition(recurring_interval_seconds=900)
    assert recurring_slot(every_15_min, at(10, 7, 30)) == at(10, 0)
    assert recurring_slot(every_15_min, at(10, 15)) == at(10, 15)
    nightly = JobDefinition(recurring_cron="30 2 * * *")
    assert recurring_slot(nightly, at(10, 0)) == at(2, 30)
    assert recurring_slot(nightly, at(2, 30)) == at(2, 30)
    assert recurring_slot(JobDefinition(), at(10, 0)) is None


def test_each_slot_is_queued_once_however_many_schedulers_tick():
    definition = JobDefinition.objects.create(name="Every5", integration_processor="NoOp", recurring_interval_seconds=5)
    JobDefinition.objects.filter(pk=definition.pk).update(created_at=at(9, 0))
    schedulers = [RecurringScheduler() for _ in range(3)]
    queued = [job for s in schedulers for job in s.tick(at(10, 0, 2))]
    queued += [job for s in schedulers for job in s.tick(at(10, 0, 4))]
    assert len(queued) == 1
    assert queued[0].schedule_slot == "2026-03-02T10:00:00Z"
    IntegrationJob.objects.update(status=IntegrationJob.Status.SUCCESS)
    queued = [job for s in schedulers for job in s.tick(at(10, 0, 6))]
    assert [job.schedule_at for job in queued] == [at(10, 0, 5)]


def test_a_slot_that_comes_while_the_previous_run_is_open_is_skipped():
    definition = JobDefinition.objects.create(name="Every5", integration_processor="NoOp", recurring_interval_seconds=5)
    JobDefinition.objects.filter(pk=definition.pk).update(created_at=at(9, 0))
    scheduler = RecurringScheduler()
    assert len(scheduler.tick(at(10, 0, 1))) == 1
    assert scheduler.tick(at(10, 0, 6)) == []  # the 10:00:00 run is still queued
    assert IntegrationJob.objects.count() == 1


def test_slots_before_the_definition_existed_are_not_queued():
    definition = JobDefinition.objects.create(name="Hourly", integration_processor="NoOp", recurring_cron="0 * * * *")
    JobDefinition.objects.filter(pk=definition.pk).update(created_at=at(10, 20))
    assert RecurringScheduler().tick(at(10, 40)) == []
    assert [j.schedule_at for j in RecurringScheduler().tick(at(11, 0, 1))] == [at(11, 0)]


def test_a_bad_cron_expression_cannot_be_saved():
    from countermand.core.errors import ValidationFailed
    from countermand.integration.services import job_definition_save

    with pytest.raises(ValidationFailed):
        job_definition_save(
            definition=JobDefinition(name="Bad", integration_processor="NoOp", recurring_cron="every day")
        )
