"""The job log (IntegrationJobLog): what processors and the worker say about each attempt of a job.

`JobLogBuffer` is the `JobLogger` processors get. It keeps lines in memory and writes them in batches
(before a step that talks to an ERP, and with the attempt's outcome), so a job costs a handful of
queries however chatty its processors are. `Debug` lines are kept only when the job definition has
debugging on; a `Fatal` line fails the attempt. Every line it hands out is redacted (`plugin.Redactor`): the
job's connection's password in its plain and base64 forms, base64(logOn:password) and any Authorization
value never reach the log; `redact`/`redact_json` do the same for the job's error and result.
"""

from __future__ import annotations

import datetime
import threading
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from countermand.integration.db import write_transaction
from countermand.integration.models import IntegrationJob, IntegrationJobLog
from countermand.integration.plugin import Redactor

Level = IntegrationJobLog.Level
MAX_MESSAGE = 20_000


@dataclass
class LogLine:
    level: str
    message: str
    module_name: str
    attempt: int
    logged_at: datetime.datetime = field(default_factory=timezone.now)


def job_log_write(*, job_id: int, lines: list[LogLine], locked: bool = False) -> None:
    """Append `lines` to a job's log with the next sequence numbers.

    The job row is locked first (unless the caller already holds it, `locked=True`), so two writers of
    the same job — a worker whose lease was lost and the one that took over — never pick the same sequence.
    """
    if not lines:
        return
    with write_transaction():
        if not locked:
            list(IntegrationJob.objects.select_for_update().filter(pk=job_id).values_list("pk"))
        job_logs_write({job_id: lines})


def job_logs_write(lines_by_job: dict[int, list[LogLine]]) -> None:
    """Append lines to the logs of several jobs whose rows the caller has locked, in its transaction:
    one query for their last sequence numbers, one insert for all the lines."""
    lines_by_job = {job_id: lines for job_id, lines in lines_by_job.items() if lines}
    if not lines_by_job:
        return
    table = IntegrationJobLog._meta.db_table
    marks = ", ".join(["%s"] * len(lines_by_job))
    with connection.cursor() as cursor:  # plain SQL: cheaper than building it through the ORM
        cursor.execute(
            f"SELECT job_id, MAX(sequence) FROM {table} WHERE job_id IN ({marks}) GROUP BY job_id", list(lines_by_job)
        )
        last = dict(cursor.fetchall())
        at = connection.ops.adapt_datetimefield_value
        cursor.executemany(
            f"INSERT INTO {table} (job_id, sequence, attempt, level, logged_at, message, module_name) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    job_id,
                    (last.get(job_id) or 0) + offset,
                    line.attempt,
                    line.level,
                    at(line.logged_at),
                    line.message[:MAX_MESSAGE],
                    line.module_name[:100],
                )
                for job_id, lines in lines_by_job.items()
                for offset, line in enumerate(lines, start=1)
            ],
        )


class JobLogBuffer:
    """A `JobLogger` for one attempt of one job. Thread-safe; `flush()` writes what is pending."""

    def __init__(
        self,
        *,
        job_id: int,
        attempt: int,
        debugging: bool = False,
        module_name: str = "",
        redactor: Redactor | None = None,
    ) -> None:
        self.job_id = job_id
        self.attempt = attempt
        self.debugging = debugging
        self.module_name = module_name
        self.redactor = redactor or Redactor()  # with no connection: Authorization values only
        self.pending: list[LogLine] = []
        self.counts = {level: 0 for level in Level.values}
        self._lock = threading.Lock()

    def _add(self, level: str, message: str) -> None:
        with self._lock:
            self.counts[level] += 1
            if level == Level.DEBUG and not self.debugging:
                return
            self.pending.append(LogLine(level, str(message), self.module_name, self.attempt))

    def debug(self, message: str) -> None:
        self._add(Level.DEBUG, message)

    def info(self, message: str) -> None:
        self._add(Level.INFO, message)

    def warn(self, message: str) -> None:
        self._add(Level.WARN, message)

    def error(self, message: str) -> None:
        self._add(Level.ERROR, message)

    def fatal(self, message: str) -> None:
        self._add(Level.FATAL, message)

    @property
    def fatal_count(self) -> int:
        return self.counts[Level.FATAL]

    def take(self) -> list[LogLine]:
        """Remove and return the pending lines, redacted (the caller writes them, e.g. with the outcome)."""
        with self._lock:
            lines, self.pending = self.pending, []
        for line in lines:
            line.message = self.redactor.redact(line.message)
        return lines

    def redact(self, text: str) -> str:
        """`text` (e.g. the job's error) without the connection's secrets."""
        return self.redactor.redact(text)

    def redact_json(self, value: Any) -> Any:
        """`value` (e.g. the job's result) with every string in it redacted."""
        return self.redactor.redact_json(value)

    def flush(self) -> None:
        job_log_write(job_id=self.job_id, lines=self.take())
