"""The job table as a queue: claim, lease, heartbeat, reap, finish — the same rules on SQLite and PostgreSQL.

- **Claim**: one short transaction. PostgreSQL picks rows with `FOR UPDATE SKIP LOCKED` (a batch per
  call), so concurrent workers never wait for each other's jobs; SQLite runs the same code in a
  `BEGIN IMMEDIATE` transaction (the database's `transaction_mode`), where the write lock serialises
  claimers, and the `status = 'Queued'` condition of the UPDATE is the compare-and-set. The claim
  increments `attempt`: every attempt has its own number, and a worker proves ownership with it.
- **Per-connection limits**, enforced inside the claim: claims of jobs that call an ERP lock the
  connection rows first, then count the connection's InProcess jobs, so `max_concurrent_jobs` holds
  across every worker. A circuit breaker `Open` until `breaker_open_until` keeps the connection's jobs
  queued (no attempt is spent on an ERP known to be down); after the cool-down the breaker is
  `HalfOpen` and exactly one job (the probe) is let through while nothing else of that connection runs.
- **Lease**: a claimed job carries `lease_owner` and `lease_expires_at`; the worker's heartbeat renews
  it. The reaper re-queues (or fails, when attempts are used up) jobs whose lease expired.
- **Finish**: fenced by the attempt number — the row is updated only while it is still InProcess with
  that attempt, so a worker that lost its lease cannot overwrite a newer attempt. The job's new status,
  its log lines, the breaker and the job handler's reaction to a final outcome (`handlers.py`) commit
  together.
- **Retries**: exponential backoff with jitter from the definition's `retry_backoff_seconds`, up to
  `max_attempts` (= max retries + 1). Transient failures met while the breaker is Open or HalfOpen
  (probes, and attempts that were already running when it opened) are refunded: they do not count.

No transaction is ever held open while a processor runs.
"""

from __future__ import annotations

import datetime
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Min, Q
from django.utils import timezone

from countermand.integration import outcomes
from countermand.integration.db import db_now, write_transaction
from countermand.integration.handlers import (
    JobFinished,
    JobOutcome,
    JobRef,
    handler_get,
    handlers_all,
    retention_purges,
)
from countermand.integration.joblog import LogLine, job_logs_write
from countermand.integration.models import (
    IntegrationConnection,
    IntegrationJob,
    IntegrationJobLog,
    JobDefinition,
)
from countermand.integration.wakeup import workers_wake_on_commit

logger = logging.getLogger(__name__)
Status = IntegrationJob.Status
Breaker = IntegrationConnection.BreakerState
Level = IntegrationJobLog.Level
MAX_BACKOFF_SECONDS = 3600.0


class AttemptKind(StrEnum):
    """How an attempt ended (the worker's view); `attempt_finish` turns it into a job status."""

    SUCCESS = "success"  # the processors ran to the end
    REJECTED = "rejected"  # ErpRejected: the ERP said no — a business answer, never retried
    TRANSIENT = "transient"  # TransientError: the ERP is unwell — retried, counts for the breaker
    TIMEOUT = "timeout"  # the attempt overran the definition's timeout — retried, counts for the breaker
    FAILED = "failed"  # an unhandled exception or a Fatal log — retried
    # ConfigurationError (the ERP refused the log-on…) — not retried, not counted by the breaker; the
    # connection keeps the message until it is edited
    CONFIGURATION = "configuration"
    LOST = "lost"  # the worker disappeared (lease expired) — retried at once
    RELEASED = "released"  # a stopping worker handed the job back unfinished — retried at once, not counted
    CANCELLED = "cancelled"  # a cancel request was honoured before the ERP was called


SUCCESS, REJECTED, TRANSIENT, TIMEOUT, FAILED, CONFIGURATION, LOST, RELEASED, CANCELLED = AttemptKind
RETRYABLE = (TRANSIENT, TIMEOUT, FAILED, LOST, RELEASED)
BREAKER_FAILURES = (TRANSIENT, TIMEOUT)


@dataclass(frozen=True)
class Claim:
    """A job this worker now runs, as attempt `attempt`."""

    job_id: int
    attempt: int
    max_attempts: int
    definition_id: int
    connection_id: int | None
    probe: bool
    claimed_at: datetime.datetime
    start_logged: bool = False  # the claim wrote the attempt's first log lines (ERP jobs, see claim_jobs)


@dataclass
class AttemptOutcome:
    """What an attempt reports to `attempt_finish`: how it ended, the job's result, its log lines."""

    kind: AttemptKind
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    warnings: int = 0
    errors: int = 0
    lines: list[LogLine] = field(default_factory=list)


@dataclass(frozen=True)
class Finish:
    """What `attempt_finish` did. `applied` is False when the attempt had lost the job (fenced out)."""

    applied: bool
    status: str = ""
    retry_at: datetime.datetime | None = None
    refunded: bool = False


def backoff_seconds(base: float, attempt: int, rng: random.Random | None = None) -> float:
    """Delay before the retry that follows failed attempt `attempt` (1, 2, …): base·2^(attempt-1),
    capped at an hour, with "equal jitter" (between half and all of it) so retries spread out."""
    if base <= 0:
        return 0.0
    delay: float = min(MAX_BACKOFF_SECONDS, base * 2.0 ** max(0, attempt - 1))
    jitter: float = (rng or random).random()
    return delay / 2 + jitter * delay / 2


def next_schedule_at() -> datetime.datetime | None:
    """When the next queued job that is not yet due becomes due (None when there is none)."""
    moment: datetime.datetime | None = IntegrationJob.objects.filter(
        status=Status.QUEUED, schedule_at__gt=timezone.now()
    ).aggregate(m=Min("schedule_at"))["m"]
    return moment


def next_breaker_probe_at() -> datetime.datetime | None:
    """When the first open circuit breaker lets its probe through (None when none is open)."""
    moment: datetime.datetime | None = IntegrationConnection.objects.filter(
        breaker_state=Breaker.OPEN, breaker_open_until__gt=timezone.now()
    ).aggregate(m=Min("breaker_open_until"))["m"]
    return moment


def _due_kinds() -> tuple[bool, bool]:
    """A cheap read (no lock) by the database's clock: are jobs of an ERP connection due, and are jobs
    without one due?"""
    table = IntegrationJob._meta.db_table
    if db_connection.vendor == "postgresql":
        clock, params = "statement_timestamp()", []
    else:
        clock, params = "%s", [db_connection.ops.adapt_datetimefield_value(db_now())]
    due = f"SELECT 1 FROM {table} WHERE status = %s AND schedule_at <= {clock} AND connection_id IS"
    queued = Status.QUEUED.value
    with db_connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS({due} NOT NULL), EXISTS({due} NULL)", [queued, *params, queued, *params])
        erp, free = cursor.fetchone()
    return bool(erp), bool(free)


def _free_jobs_pick(now: datetime.datetime, limit: int) -> list[tuple[int, int, int, int, None]]:
    """Lock (PostgreSQL: skipping those other claimers hold) the first due jobs that call no ERP:
    (id, attempt, max_attempts, definition_id, None)."""
    table = IntegrationJob._meta.db_table
    sql = (
        f"SELECT id, attempt, max_attempts, definition_id FROM {table} "
        "WHERE status = %s AND schedule_at <= %s AND connection_id IS NULL ORDER BY schedule_at, id LIMIT %s"
    )
    if db_connection.features.has_select_for_update_skip_locked:
        sql += " FOR UPDATE SKIP LOCKED"
    with db_connection.cursor() as cursor:
        cursor.execute(sql, [Status.QUEUED.value, db_connection.ops.adapt_datetimefield_value(now), limit])
        return [(*row, None) for row in cursor.fetchall()]


def claim_jobs(*, worker_id: str, limit: int, lease_seconds: float, connection_limit: int | None = None) -> list[Claim]:
    """Claim up to `limit` due jobs for `worker_id`, honouring each connection's breaker and limit.

    `connection_limit` caps the jobs that call an ERP among them (a worker claims those only for idle
    threads, since a claimed job counts against its connection's limit until it finishes).

    Times come from the database's clock (`db_now`), so a worker whose host clock is off neither
    claims jobs early nor stamps leases that other workers read as expired. The hot path (jobs that call
    no ERP) is plain SQL: a locking select and one update for the whole batch.
    """
    if limit <= 0:
        return []
    erp_room = limit if connection_limit is None else min(limit, connection_limit)
    erp_due, free_due = _due_kinds()
    if not (erp_due and erp_room > 0) and not free_due:
        return []
    picked: list[tuple[int, int, int, int, int | None]] = []  # id, attempt, max_attempts, definition, connection
    probes: set[int] = set()
    with write_transaction():
        now = db_now()
        if erp_due and erp_room > 0:
            picked, probes = _erp_jobs_pick(now, erp_room)
        room = limit - len(picked)
        if room > 0 and free_due:
            picked += _free_jobs_pick(now, room)
        if not picked:
            return []
        table = IntegrationJob._meta.db_table
        ids = [row[0] for row in picked]
        marks = ", ".join(["%s"] * len(ids))
        at = db_connection.ops.adapt_datetimefield_value
        with db_connection.cursor() as cursor:
            # The rows are locked (PostgreSQL FOR UPDATE; SQLite's write lock since BEGIN IMMEDIATE), so the
            # attempt read above is the one this update increments; `status` stays the compare-and-set.
            cursor.execute(
                f"UPDATE {table} SET status = %s, attempt = attempt + 1, lease_owner = %s, lease_expires_at = %s, "
                f"started_at = %s, finished_at = NULL WHERE id IN ({marks}) AND status = %s",
                [
                    Status.IN_PROCESS.value,
                    worker_id,
                    at(now + datetime.timedelta(seconds=lease_seconds)),
                    at(now),
                    *ids,
                    Status.QUEUED.value,
                ],
            )
            if cursor.rowcount != len(ids):  # cannot happen while the rows are locked; never hand out a job twice
                raise RuntimeError(f"claimed {cursor.rowcount} of {len(ids)} locked jobs; claim aborted")
            # At most one write a second per definition: concurrent claimers do not queue on its row lock.
            definition_ids = sorted({row[3] for row in picked})
            cursor.execute(
                f"UPDATE {JobDefinition._meta.db_table} SET last_run_at = %s WHERE id IN "
                f"({', '.join(['%s'] * len(definition_ids))}) AND (last_run_at IS NULL OR last_run_at < %s)",
                [at(now), *definition_ids, at(now - datetime.timedelta(seconds=1))],
            )
        # An ERP job's log must say the attempt started before the ERP is called (the call may hang, the
        # worker die). Written here, with the rows locked, it costs the attempt no write transaction of its
        # own before the call: on SQLite that one queued behind the finisher for the write lock.
        job_logs_write(
            {
                job_id: attempt_start_lines(worker_id, attempt + 1, max_attempts, probe=job_id in probes)
                for job_id, attempt, max_attempts, _, connection_id in picked
                if connection_id is not None
            }
        )
    return [
        Claim(
            job_id=job_id,
            attempt=attempt + 1,
            max_attempts=max_attempts,
            definition_id=definition_id,
            connection_id=connection_id,
            probe=job_id in probes,
            claimed_at=now,
            start_logged=connection_id is not None,
        )
        for job_id, attempt, max_attempts, definition_id, connection_id in picked
    ]


def attempt_start_lines(worker_id: str, attempt: int, max_attempts: int, *, probe: bool) -> list[LogLine]:
    """The first log lines of an attempt: the claim writes them for ERP jobs, `attempt_run` for the others."""
    lines = [
        LogLine(
            Level.INFO, f"Attempt {attempt} of {max_attempts} started by worker {worker_id}.", "Countermand", attempt
        )
    ]
    if probe:
        lines.append(
            LogLine(
                Level.INFO,
                "This attempt probes whether the ERP answers again (circuit breaker half-open).",
                "Countermand",
                attempt,
            )
        )
    return lines


def _erp_jobs_pick(now: datetime.datetime, room: int) -> tuple[list[tuple[int, int, int, int, int | None]], set[int]]:
    """Within the claim's transaction: pick up to `room` due jobs of ERP connections, each connection's
    breaker and `max_concurrent_jobs` honoured. Returns the rows picked and the ids of breaker probes.
    Plain SQL, as the free path: a worker under a connection limit claims a job or two per freed slot,
    so this runs about once per ERP job."""
    jobs, connections = IntegrationJob._meta.db_table, IntegrationConnection._meta.db_table
    at = db_connection.ops.adapt_datetimefield_value(now)
    lock = " FOR UPDATE" if db_connection.features.has_select_for_update else ""
    skip = " FOR UPDATE SKIP LOCKED" if db_connection.features.has_select_for_update_skip_locked else ""
    queued, running_status = Status.QUEUED.value, Status.IN_PROCESS.value
    with db_connection.cursor() as cursor:
        # Lock the connections that have due jobs, in id order (no deadlock between claimers): claimers of
        # the same ERP take turns, so the InProcess count they read is exact and max_concurrent_jobs holds
        # across all workers. Connections with nothing due stay unlocked.
        cursor.execute(
            f"SELECT c.id, c.max_concurrent_jobs, c.breaker_state, "
            f"(c.breaker_state = %s AND c.breaker_open_until IS NOT NULL AND c.breaker_open_until > %s) "
            f"FROM {connections} c WHERE c.is_active AND EXISTS (SELECT 1 FROM {jobs} j WHERE "
            f"j.connection_id = c.id AND j.status = %s AND j.schedule_at <= %s) ORDER BY c.id{lock}",
            [Breaker.OPEN.value, at, queued, at],
        )
        candidates = cursor.fetchall()
        if not candidates:
            return [], set()
        marks = ", ".join(["%s"] * len(candidates))
        cursor.execute(
            f"SELECT connection_id, COUNT(*) FROM {jobs} WHERE status = %s AND connection_id IN ({marks}) "
            "GROUP BY connection_id",
            [running_status, *(row[0] for row in candidates)],
        )
        running = dict(cursor.fetchall())
        random.shuffle(candidates)  # no ERP starves another
        picked: list[tuple[int, int, int, int, int | None]] = []
        probes: set[int] = set()
        for connection_id, max_concurrent, breaker_state, still_open in candidates:
            left = room - len(picked)
            if left <= 0:
                break
            if still_open:
                continue
            in_process = running.get(connection_id, 0)
            probe = breaker_state != Breaker.CLOSED
            capacity = (1 if in_process == 0 else 0) if probe else max_concurrent - in_process
            take = min(capacity, left)
            if take <= 0:
                continue
            cursor.execute(
                f"SELECT id, attempt, max_attempts, definition_id, connection_id FROM {jobs} "
                "WHERE connection_id = %s AND status = %s AND schedule_at <= %s "
                f"ORDER BY schedule_at, id LIMIT %s{skip}",
                [connection_id, queued, at, take],
            )
            rows = cursor.fetchall()
            if rows and probe:
                cursor.execute(
                    f"UPDATE {connections} SET breaker_state = %s WHERE id = %s",
                    [Breaker.HALF_OPEN.value, connection_id],
                )
                probes.update(row[0] for row in rows)
            picked += [tuple(row) for row in rows]
    return picked, probes


@dataclass(frozen=True)
class LeaseReport:
    lost: set[int]
    cancel_requested: set[int]


def leases_renew(*, worker_id: str, held: dict[int, int], lease_seconds: float) -> LeaseReport:
    """Heartbeat: extend the leases of the jobs this worker runs (`held`: job id → attempt).

    Reports the jobs it no longer holds (reaped or finished by someone else) and those an
    administrator asked to cancel.
    """
    if not held:
        return LeaseReport(set(), set())
    expires = db_now() + datetime.timedelta(seconds=lease_seconds)
    with write_transaction():
        IntegrationJob.objects.filter(pk__in=list(held), status=Status.IN_PROCESS, lease_owner=worker_id).update(
            lease_expires_at=expires
        )
    lost, cancel = set(), set()
    rows = IntegrationJob.objects.filter(pk__in=list(held)).values_list(
        "id", "status", "attempt", "lease_owner", "cancel_requested"
    )
    seen = set()
    for job_id, status, attempt, owner, cancel_requested in rows:
        seen.add(job_id)
        if status != Status.IN_PROCESS or attempt != held[job_id] or owner != worker_id:
            lost.add(job_id)
        elif cancel_requested:
            cancel.add(job_id)
    lost |= set(held) - seen
    return LeaseReport(lost, cancel)


def _breaker_after_failure(connection_id: int, now: datetime.datetime) -> tuple[bool, str]:
    """Count a transient failure against a connection. Returns (refund the attempt?, log message)."""
    conn = IntegrationConnection.objects.select_for_update().get(pk=connection_id)
    if conn.breaker_state != Breaker.CLOSED:
        # A failed probe (HalfOpen) or an attempt that was running when the breaker opened: the ERP is
        # known to be down, so this attempt does not count against the job.
        conn.breaker_state = Breaker.OPEN
        conn.breaker_open_until = now + datetime.timedelta(seconds=conn.breaker_cooldown_seconds)
        conn.breaker_failures += 1
        conn.save(update_fields=["breaker_state", "breaker_open_until", "breaker_failures"])
        return True, (
            f"Circuit breaker of {conn.name} stays open until {conn.breaker_open_until:%H:%M:%S}; "
            "this attempt does not count."
        )
    conn.breaker_failures += 1
    if conn.breaker_failures >= max(1, conn.breaker_threshold):
        conn.breaker_state = Breaker.OPEN
        conn.breaker_open_until = now + datetime.timedelta(seconds=conn.breaker_cooldown_seconds)
        conn.save(update_fields=["breaker_state", "breaker_open_until", "breaker_failures"])
        return False, (
            f"{conn.breaker_failures} transient failures in a row: circuit breaker of {conn.name} opened until "
            f"{conn.breaker_open_until:%H:%M:%S}; its jobs wait."
        )
    conn.save(update_fields=["breaker_failures"])
    return False, ""


def _connection_configuration_error_note(connection_id: int, error: str, now: datetime.datetime) -> None:
    """Mark the connection with the configuration error an attempt met: its next jobs fail with it at once
    (no more refused log-ins) until the connection is edited (`services.connection_save` clears it)."""
    IntegrationConnection.objects.filter(pk=connection_id).update(
        configuration_error=error[:2000], configuration_error_at=now
    )


def _breaker_after_answer(connection_id: int) -> bool:
    """The ERP answered (confirmed or refused): close the breaker. Returns True when it was not closed.
    Writes only when something changes, so healthy traffic does not contend on the connection row."""
    return bool(
        IntegrationConnection.objects.filter(pk=connection_id)
        .filter(~Q(breaker_state=Breaker.CLOSED) | Q(breaker_failures__gt=0))
        .update(breaker_state=Breaker.CLOSED, breaker_failures=0, breaker_open_until=None)
    )


@dataclass(frozen=True)
class FencedJob:
    """The job row `attempt_finish` locked, with what finishing it needs from its definition, and the
    database's clock when it was locked (`now`)."""

    now: datetime.datetime
    job_id: int
    attempt: int
    max_attempts: int
    cancel_requested: bool
    connection_id: int | None
    order_id: int | None
    idempotency_key: str
    handler: str
    retry_backoff_seconds: float
    notifies: bool

    def ref(self) -> JobRef:
        return JobRef(
            job_id=self.job_id,
            attempt=self.attempt,
            handler=self.handler,
            order_id=self.order_id,
            idempotency_key=self.idempotency_key,
        )


def _fence_lock(attempts: Sequence[tuple[int, int]], *, expired_only: bool) -> dict[int, FencedJob]:
    """Lock the job rows that the given (job id, attempt) pairs still hold; return what finishing them
    needs, by job id (a pair whose attempt lost its job is left out). `expired_only` also requires the
    lease to have expired by the database's clock.

    Plain SQL, one statement for the whole batch: building it through the ORM costs more than executing
    it. On PostgreSQL the same statement reads the database's clock, so finishing costs no extra round trip.
    """
    postgresql = db_connection.vendor == "postgresql"
    host_now = None if postgresql else db_now()  # SQLite: the database's clock is this host's
    job, definition = IntegrationJob._meta.db_table, JobDefinition._meta.db_table
    wanted = dict(attempts)
    marks = ", ".join(["%s"] * len(wanted))
    sql = (
        "SELECT j.id, j.attempt, j.max_attempts, j.cancel_requested, j.connection_id, j.order_id, "
        "j.idempotency_key, j.handler, d.retry_backoff_seconds, d.notify_email, d.notify_condition"
        + (", statement_timestamp() " if postgresql else " ")
        + f"FROM {job} j JOIN {definition} d ON d.id = j.definition_id "
        f"WHERE j.id IN ({marks}) AND j.status = %s"
    )
    params: list[Any] = [*wanted, Status.IN_PROCESS.value]
    if expired_only and postgresql:
        sql += " AND j.lease_expires_at < statement_timestamp()"
    elif expired_only:
        sql += " AND j.lease_expires_at < %s"
        params.append(db_connection.ops.adapt_datetimefield_value(host_now))
    if db_connection.features.has_select_for_update_of:
        sql += " ORDER BY j.id FOR UPDATE OF j"  # id order: batches that overlap never deadlock
    with db_connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    fenced = {}
    for row in rows:
        job_id, attempt, max_attempts, cancel_requested, connection_id, order_id, key, handler = row[:8]
        backoff, email, condition = row[8:11]
        if wanted.get(job_id) != attempt:
            continue
        now = row[11].astimezone(datetime.UTC) if postgresql else host_now
        assert now is not None
        fenced[job_id] = FencedJob(
            now=now,
            job_id=job_id,
            attempt=attempt,
            max_attempts=max_attempts,
            cancel_requested=bool(cancel_requested),
            connection_id=connection_id,
            order_id=order_id,
            idempotency_key=key,
            handler=handler,
            retry_backoff_seconds=backoff,
            notifies=bool(email and condition),
        )
    return fenced


def job_finished_tell(
    *, job: JobRef, outcome: JobOutcome, status: str, result: dict[str, Any], error: str
) -> list[LogLine]:
    """Tell the job's handler its final outcome, inside the caller's transaction. Returns its log lines."""
    if not job.handler:
        return []
    handler = handler_get(job.handler)
    if handler is None:
        return [
            LogLine(
                Level.WARN,
                f"No handler {job.handler!r} is installed: nothing outside the job table heard this outcome.",
                "Countermand",
                job.attempt,
            )
        ]
    return handler.finished(JobFinished(job=job, outcome=outcome, status=status, result=result, error=error))


def attempt_finish(*, job_id: int, attempt: int, outcome: AttemptOutcome, expired_only: bool = False) -> Finish:
    """Record how attempt `attempt` of a job ended — only if the job is still InProcess with that attempt.

    Decides the job's status (Success, SuccessWithWarnings, Queued for a retry, Failure, Cancelled),
    writes the attempt's log lines, updates the connection's breaker, tells the job's handler a final
    outcome and queues the notify e-mail — all in one transaction. `expired_only` (the reaper) also requires the
    lease to have expired, so a heartbeat that just renewed it wins.
    """
    (finish,) = attempts_finish([(job_id, attempt, outcome)], expired_only=expired_only)
    return finish


def attempts_finish(attempts: Sequence[tuple[int, int, AttemptOutcome]], *, expired_only: bool = False) -> list[Finish]:
    """`attempt_finish` for several attempts (job id, attempt, outcome) in one transaction: one fenced
    lock statement, one update statement per kind of end (final, retried), one log insert, one commit.
    Each attempt is decided on its own, in the given order; the result is in that order too.

    A failure (a handler raising, a lost database connection) rolls the whole batch back: the caller
    may then record the attempts one by one, so one bad outcome cannot hold back the others.
    """
    if not attempts:
        return []
    finishes: list[Finish] = []
    with write_transaction():
        fenced = _fence_lock([(job_id, attempt) for job_id, attempt, _ in attempts], expired_only=expired_only)
        closed: set[int] = set()  # connections whose breaker this batch already closed
        finals: list[tuple[Any, ...]] = []
        retries: list[tuple[Any, ...]] = []
        logs: dict[int, list[LogLine]] = {}
        for job_id, attempt, outcome in attempts:
            job = fenced.pop(job_id, None)  # popped: the same attempt twice in a batch applies once
            if job is None or job.attempt != attempt:
                finishes.append(Finish(applied=False))
                continue
            finish, row, lines = _attempt_decide(job, outcome, closed)
            (retries if finish.status == Status.QUEUED else finals).append(row)
            logs[job_id] = lines
            finishes.append(finish)
        _jobs_update(finals=finals, retries=retries)
        # The log's last sequences are read after the locks are held (a fresh snapshot on PostgreSQL), so a
        # log line another writer committed while this one waited for a lock is counted.
        job_logs_write(logs)
    return finishes


def _connection_after(
    job: FencedJob, outcome: AttemptOutcome, closed: set[int], say: Callable[[str, str], None]
) -> bool:
    """What an attempt's end does to its connection: an answer closes the breaker, an outage counts for it,
    a configuration error marks the connection. Returns True when the attempt is refunded (breaker open)."""
    connection_id, kind = job.connection_id, outcome.kind
    assert connection_id is not None
    if kind in (SUCCESS, REJECTED):
        if connection_id not in closed:
            if _breaker_after_answer(connection_id):
                say(Level.INFO, "The ERP answers again: circuit breaker closed.")
            closed.add(connection_id)
    elif kind in BREAKER_FAILURES:
        closed.discard(connection_id)
        refunded, message = _breaker_after_failure(connection_id, job.now)
        if message:
            say(Level.WARN, message)
        return refunded
    elif kind == CONFIGURATION:
        _connection_configuration_error_note(connection_id, outcome.error, job.now)
    return False


def _attempt_decide(
    job: FencedJob, outcome: AttemptOutcome, closed: set[int]
) -> tuple[Finish, tuple[Any, ...], list[LogLine]]:
    """Decide one fenced attempt's end: breaker, status, retry, the handler's reaction. Returns the
    Finish, the job row's new values (for `_jobs_update`) and the log lines to write."""
    attempt = job.attempt
    lines = list(outcome.lines)

    def say(level: str, message: str) -> None:
        lines.append(LogLine(level, message, "Countermand", attempt))

    now = job.now
    kind = outcome.kind
    refunded = _connection_after(job, outcome, closed, say) if job.connection_id else False

    if kind == RELEASED:
        refunded = True
    retry_at = None
    max_attempts = job.max_attempts
    if kind == SUCCESS:
        status = Status.SUCCESS_WITH_WARNINGS if outcome.warnings or outcome.errors else Status.SUCCESS
    elif kind == REJECTED:
        status = Status.SUCCESS_WITH_WARNINGS
    elif kind == CANCELLED or job.cancel_requested:
        status = Status.CANCELLED
        say(Level.INFO, "Cancelled on request; not retried.")
    elif kind == CONFIGURATION:
        status = Status.FAILURE
        say(Level.ERROR, f"Not retried (a retry cannot fix the connection's configuration): {outcome.error}")
    elif refunded or attempt < job.max_attempts:
        status = Status.QUEUED
        if refunded:
            max_attempts += 1
        delay = 0.0 if kind in (LOST, RELEASED) else backoff_seconds(job.retry_backoff_seconds, attempt)
        retry_at = now + datetime.timedelta(seconds=delay)
        if not delay:
            workers_wake_on_commit()  # due again now: a sleeping worker may take it
        say(
            Level.INFO,
            f"Attempt {attempt} {'was handed back' if kind == RELEASED else f'failed ({kind})'}; retry "
            + (f"at {retry_at:%H:%M:%S}" if delay else "now")
            + f" ({max_attempts - attempt} attempt(s) left).",
        )
    else:
        status = Status.FAILURE
        say(Level.ERROR, f"Giving up after {attempt} attempt(s): {outcome.error}")

    error = outcome.error[:10_000] if status != Status.SUCCESS else ""
    common = (status, max_attempts, outcome.warnings, outcome.errors, error)
    if status == Status.QUEUED:
        return (
            Finish(applied=True, status=status, retry_at=retry_at, refunded=refunded),
            (*common, retry_at, job.job_id),
            lines,
        )
    if kind == SUCCESS:
        told = JobOutcome.SUCCEEDED
    elif kind == REJECTED:
        told = JobOutcome.REJECTED
    elif status == Status.CANCELLED:
        told = JobOutcome.CANCELLED
    else:
        told = JobOutcome.FAILED
    lines += job_finished_tell(job=job.ref(), outcome=told, status=status, result=outcome.result, error=outcome.error)
    if job.notifies:
        job_id = job.job_id
        transaction.on_commit(lambda: outcomes.definition_notify(job_id=job_id))
    return (
        Finish(applied=True, status=status, retry_at=None, refunded=refunded),
        (*common, now, outcome.result, job.job_id),
        lines,
    )


def _jobs_update(*, finals: list[tuple[Any, ...]], retries: list[tuple[Any, ...]]) -> None:
    """Write the decided ends of fenced (locked) jobs: one statement per kind, run as a batch
    (`executemany`: pipelined on PostgreSQL). A final row is (status, max_attempts, warnings, errors,
    error, finished_at, result, id); a retried one (…, error, schedule_at, id)."""
    table = IntegrationJob._meta.db_table
    ops = db_connection.ops
    common = (
        "status = %s, lease_owner = '', lease_expires_at = NULL, max_attempts = %s, "
        "warning_count = %s, error_count = %s, error = %s"
    )
    result_field = IntegrationJob._meta.get_field("result")
    with db_connection.cursor() as cursor:
        if finals:
            cursor.executemany(
                f"UPDATE {table} SET {common}, finished_at = %s, result = %s WHERE id = %s",
                [
                    (
                        *row[:5],
                        ops.adapt_datetimefield_value(row[5]),
                        result_field.get_db_prep_save(row[6], db_connection),
                        row[7],
                    )
                    for row in finals
                ],
            )
        if retries:
            cursor.executemany(
                f"UPDATE {table} SET {common}, schedule_at = %s WHERE id = %s",
                [(*row[:5], ops.adapt_datetimefield_value(row[5]), row[6]) for row in retries],
            )


def leases_reap(*, limit: int = 100) -> list[Finish]:
    """Re-queue (or fail, when its attempts are used up) every job whose worker stopped renewing its lease
    (by the database's clock, the one the leases were stamped with)."""
    now = db_now()
    expired = list(
        IntegrationJob.objects.filter(status=Status.IN_PROCESS, lease_expires_at__lt=now)
        .order_by("lease_expires_at")
        .values_list("id", "attempt", "lease_owner")[:limit]
    )
    finished = []
    for job_id, attempt, owner in expired:
        message = f"The lease of worker {owner or '?'} on attempt {attempt} expired (the worker stopped or hung)."
        finish = attempt_finish(
            job_id=job_id,
            attempt=attempt,
            outcome=AttemptOutcome(
                kind=LOST, error=message, lines=[LogLine(Level.WARN, message, "Countermand", attempt)]
            ),
            expired_only=True,
        )
        if finish.applied:
            logger.warning("reaped job %s attempt %s of %s: now %s", job_id, attempt, owner, finish.status)
            finished.append(finish)
    return finished


PURGE_BATCH = 100  # jobs deleted per transaction: each one holds its locks for a moment only
PURGE_MAX_BATCHES = 50  # transactions per call (a maintenance tick); the rest waits for the next tick
PURGE_PAUSE_SECONDS = 0.01  # between batches: a waiting writer (the heartbeat, a claim) takes its turn


def jobs_purge(*, older_than_days: float, batch: int = PURGE_BATCH, max_batches: int = PURGE_MAX_BATCHES) -> int:
    """Delete finished jobs older than `older_than_days` (their parameters and logs go with them).

    Works in small batches, each its own short transaction, and stops after `max_batches` of them,
    so a large backlog never holds locks for long: other writers (and, on SQLite, the one write lock)
    get their turn between batches, and what is left goes at the next call.

    A job that a handler still needs (`JobHandler.purge_keeps`, e.g. one an open cancellation points at)
    is kept until the handler lets it go. Returns the number of jobs deleted.
    """
    cutoff = timezone.now() - datetime.timedelta(days=older_than_days)
    candidates = IntegrationJob.objects.filter(status__in=outcomes.FINISHED_STATUSES, finished_at__lt=cutoff)
    for handler in handlers_all().values():
        kept = handler.purge_keeps()
        if kept is not None:
            candidates = candidates.exclude(pk__in=kept)
    deleted = 0
    for number in range(max_batches):
        if number:
            time.sleep(PURGE_PAUSE_SECONDS)
        with write_transaction():
            ids = list(
                candidates.order_by("finished_at")
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("id", flat=True)[:batch]
            )
            if not ids:
                break
            IntegrationJob.objects.filter(pk__in=ids).delete()
        deleted += len(ids)
        if len(ids) < batch:
            break
    return deleted


def retention_run(*, older_than_days: float) -> int:
    """The worker's retention task: `jobs_purge`, then every purge registered with
    `handlers.retention_register` (a domain's own expired rows), each on its own: one that fails is logged and
    the others still run. Returns the number of jobs deleted."""
    deleted = jobs_purge(older_than_days=older_than_days)
    for name, purge in retention_purges().items():
        try:
            purge()
        except Exception:  # the next tick tries again; the job purge and the other purges stand
            logger.exception("the retention purge %s failed", name)
    return deleted
