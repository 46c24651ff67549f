"""Recurring job definitions (interval or cron): each slot is queued once, however many workers run.

Every worker looks at the clock; the first to insert the slot's job wins — the job table's unique
(definition, schedule_slot) constraint turns every other insert away. Only the latest slot is queued
(a worker that was down does not replay the slots it missed), and a slot that comes while the previous
run of the same definition is still queued or running is skipped (dedupe key `Recurring:<id>`), so a
slow job never piles up behind itself.
"""

from __future__ import annotations

import datetime
import logging
import time

from django.utils import timezone

from countermand.core.errors import DomainError
from countermand.integration.models import IntegrationJob, JobDefinition
from countermand.integration.services import DuplicateJob, job_enqueue

logger = logging.getLogger(__name__)
EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)


def recurring_slot(definition: JobDefinition, now: datetime.datetime) -> datetime.datetime | None:
    """The start of the latest slot of a recurring definition at `now` (None when it does not recur)."""
    if definition.recurring_interval_seconds:
        step = definition.recurring_interval_seconds
        elapsed = int((now - EPOCH).total_seconds())
        return EPOCH + datetime.timedelta(seconds=elapsed - elapsed % step)
    if definition.recurring_cron:
        from croniter import croniter

        return croniter(definition.recurring_cron, now + datetime.timedelta(microseconds=1)).get_prev(datetime.datetime)
    return None


def slot_key(slot: datetime.datetime) -> str:
    return slot.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RecurringScheduler:
    """Queues the jobs of recurring definitions; call `tick()` every second or so."""

    def __init__(self, reload_seconds: float = 5.0) -> None:
        self.reload_seconds = reload_seconds
        self.definitions: list[JobDefinition] = []
        self.loaded_at = float("-inf")
        self.seen: dict[int, str] = {}

    def tick(self, now: datetime.datetime | None = None) -> list[IntegrationJob]:
        if time.monotonic() - self.loaded_at >= self.reload_seconds:
            self.definitions = list(
                JobDefinition.objects.filter(is_active=True)
                .exclude(recurring_interval_seconds__isnull=True, recurring_cron="")
                .prefetch_related("parameters")
            )
            self.loaded_at = time.monotonic()
        now = now or timezone.now()
        queued = []
        for definition in self.definitions:
            try:
                slot = recurring_slot(definition, now)
            except (ValueError, KeyError) as exc:
                logger.error("job definition %s has a bad recurrence: %s", definition.name, exc)
                continue
            if slot is None or slot < definition.created_at.replace(microsecond=0):
                continue
            key = slot_key(slot)
            if self.seen.get(definition.pk) == key:
                continue
            self.seen[definition.pk] = key
            try:
                job = job_enqueue(
                    definition=definition,
                    schedule_at=slot,
                    schedule_slot=key,
                    dedupe_key=f"Recurring:{definition.pk}",
                    idempotency_key=f"{definition.name}:{key}",
                )
            except DuplicateJob:
                continue  # another worker queued this slot (or the previous run is still open)
            except DomainError as exc:
                logger.error("cannot queue recurring job %s for %s: %s", definition.name, key, exc.message)
                continue
            logger.info("queued recurring job %s #%s for slot %s", definition.name, job.pk, key)
            queued.append(job)
        return queued
