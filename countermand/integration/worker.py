"""The integration worker: claims jobs and runs them on a thread pool, so one process keeps many slow ERP
calls in flight.

Threads:
- the main thread claims jobs (a batch of up to the free slots) and hands them to the pool; it sleeps
  until a job finishes, a PostgreSQL NOTIFY arrives, the next job is due, or the poll interval passes;
- a heartbeat thread renews the leases of running jobs and passes on cancel requests; it does nothing
  else, so a slow maintenance task can never let a live lease expire;
- a maintenance thread abandons attempts that overran their job's timeout, re-queues jobs whose worker
  died (reaper), queues recurring jobs, and deletes finished jobs past the retention period;
- a listener thread wakes the claim loop when a job is committed: on PostgreSQL it holds its own
  connection with `LISTEN countermand_jobs`; on SQLite it reads a Unix datagram socket (`wakeup.py`);
- a finisher thread records the outcomes of attempts, several in one transaction (`FinishBatcher`).

SIGTERM / SIGINT: stop claiming, let running attempts finish for up to `grace_seconds` (leases still
renewed), hand back the ones that did not (re-queued, the attempt not counted), exit. A second signal
hands back at once.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from django.db import connection as db_connection
from django.utils import timezone

from countermand.integration import queue, wakeup
from countermand.integration.db import NOTIFY_CHANNEL, listen_connection_params
from countermand.integration.joblog import LogLine
from countermand.integration.models import JobDefinition
from countermand.integration.runner import AttemptControl, LoadedJob, attempt_execute, jobs_load
from countermand.integration.scheduler import RecurringScheduler

logger = logging.getLogger("countermand.worker")


def _env_float(name: str, default: float | None) -> float | None:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker behaves. Every option also reads an environment variable (COUNTERMAND_WORKER_…)."""

    concurrency: int = 8
    prefetch: int | None = None  # jobs claimed ahead for busy threads (default: concurrency); not ERP jobs
    burst: bool = False
    lease_seconds: float = 30.0
    heartbeat_seconds: float | None = None  # default: a third of the lease
    poll_seconds: float | None = None  # default: 0.5 s on SQLite, 5 s on PostgreSQL (NOTIFY wakes it sooner)
    retention_days: float = 30.0
    retention_every_seconds: float = 600.0
    grace_seconds: float = 30.0
    metrics_port: int | None = None
    worker_id: str = ""

    @classmethod
    def from_env(cls, **overrides: object) -> WorkerOptions:
        base = cls(
            concurrency=int(_env_float("COUNTERMAND_WORKER_CONCURRENCY", 8) or 8),
            lease_seconds=_env_float("COUNTERMAND_WORKER_LEASE_SECONDS", 30.0) or 30.0,
            heartbeat_seconds=_env_float("COUNTERMAND_WORKER_HEARTBEAT_SECONDS", None),
            poll_seconds=_env_float("COUNTERMAND_WORKER_POLL_SECONDS", None),
            retention_days=_env_float("COUNTERMAND_JOB_RETENTION_DAYS", 30.0) or 30.0,
            grace_seconds=_env_float("COUNTERMAND_WORKER_GRACE_SECONDS", 30.0) or 30.0,
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]

    @property
    def ahead(self) -> int:
        return self.concurrency if self.prefetch is None else max(0, self.prefetch)

    @property
    def heartbeat(self) -> float:
        return self.heartbeat_seconds or max(0.2, self.lease_seconds / 3)

    @property
    def poll(self) -> float:
        if self.poll_seconds:
            return self.poll_seconds
        return 5.0 if db_connection.vendor == "postgresql" else 0.5


@dataclass
class InFlight:
    claim: queue.Claim
    control: AttemptControl
    deadline: float  # time.monotonic() after which the attempt is abandoned
    timeout_seconds: int
    future: Future[object] | None = None
    abandoned: bool = False


@dataclass
class _Ending:
    """An attempt's outcome waiting in the `FinishBatcher`, and what recording it gave."""

    job_id: int
    attempt: int
    outcome: queue.AttemptOutcome
    done: threading.Event = field(default_factory=threading.Event)
    finish: queue.Finish | None = None
    error: BaseException | None = None


class FinishBatcher:
    """Group commit of attempt outcomes: job threads hand their outcome to `finish()` and wait; one
    thread records everything that is waiting in one transaction (`queue.attempts_finish`), so eight
    threads that end together cost one commit, not eight turns at the write lock. An attempt that ends
    alone is recorded at once — no waiting for a batch to fill.

    If a batch fails (a handler raises, the connection drops) its attempts are recorded one by one,
    each in its own transaction, so one bad outcome holds back no other; an attempt whose own recording
    fails gets the error (the reaper re-queues its job when its lease expires).
    """

    def __init__(self, *, max_batch: int = 64) -> None:
        self.max_batch = max_batch
        self._waiting: list[_Ending] = []
        self._ready = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="finisher", daemon=True)
        self._thread.start()

    def finish(self, job_id: int, attempt: int, outcome: queue.AttemptOutcome) -> queue.Finish:
        ending = _Ending(job_id, attempt, outcome)
        with self._ready:
            if self._stopped:
                raise RuntimeError("the worker's finisher has stopped")
            self._waiting.append(ending)
            self._ready.notify()
        ending.done.wait()
        if ending.error is not None:
            raise ending.error
        assert ending.finish is not None
        return ending.finish

    def stop(self) -> None:
        """Record what is waiting, then stop the thread."""
        with self._ready:
            self._stopped = True
            self._ready.notify()
        self._thread.join(timeout=30)

    def _loop(self) -> None:
        while True:
            with self._ready:
                while not self._waiting and not self._stopped:
                    self._ready.wait()
                if not self._waiting:
                    break
                batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
            self._record(batch)
        db_connection.close()  # this thread's own connection

    def _record(self, batch: list[_Ending]) -> None:
        try:
            finishes = queue.attempts_finish([(e.job_id, e.attempt, e.outcome) for e in batch])
        except Exception as exc:
            db_connection.close()  # a broken connection is replaced on the next query
            if len(batch) == 1:
                batch[0].error = exc
                batch[0].done.set()
                return
            logger.warning("recording %s outcomes together failed; recording them one by one", len(batch))
            for ending in batch:
                self._record([ending])
            return
        for ending, finish in zip(batch, finishes, strict=True):
            ending.finish = finish
            ending.done.set()


@dataclass
class Periodic:
    every: float
    action: Callable[[], object]
    due: float = field(default=0.0)


class Worker:
    def __init__(self, options: WorkerOptions | None = None) -> None:
        self.options = options or WorkerOptions.from_env()
        self.id = self.options.worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.hard_stop = threading.Event()
        self.lock = threading.Lock()
        self.in_flight: dict[tuple[int, int], InFlight] = {}
        self.definitions: dict[int, tuple[str, int, float]] = {}
        self.scheduler = RecurringScheduler()
        self.executor: ThreadPoolExecutor | None = None
        self.batcher: FinishBatcher | None = None
        self.claimed = 0
        self.finished = 0

    # --- entry point ------------------------------------------------------------------------------

    def run(self) -> int:
        """Run until stopped (or, with `burst`, until nothing is due). Returns an exit status."""
        opts = self.options
        self._install_signals()
        if opts.metrics_port:
            from prometheus_client import start_http_server

            start_http_server(opts.metrics_port, addr="127.0.0.1")
        logger.info(
            "worker %s: concurrency %s, lease %ss, poll %ss, database %s%s",
            self.id,
            opts.concurrency,
            opts.lease_seconds,
            opts.poll,
            db_connection.vendor,
            " (burst)" if opts.burst else "",
        )
        self.executor = ThreadPoolExecutor(max_workers=opts.concurrency, thread_name_prefix="job")
        self.batcher = FinishBatcher()
        heartbeat = threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True)
        maintenance = threading.Thread(target=self._maintenance_loop, name="maintenance", daemon=True)
        listener = None
        if not opts.burst:
            listen = self._listen_loop if db_connection.vendor == "postgresql" else self._wake_socket_loop
            listener = threading.Thread(target=listen, name="listener", daemon=True)
            listener.start()
        if opts.burst:
            self._safely(queue.leases_reap)
            self._safely(self.scheduler.tick)
        heartbeat.start()
        maintenance.start()
        try:
            self._claim_loop()
        finally:
            self._drain()
            self.stopping.set()
            heartbeat.join(timeout=5)
            maintenance.join(timeout=5)
            if listener is not None:
                listener.join(timeout=5)  # it looks at `stopping` every second; its connection goes with it
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.batcher.stop()
        logger.info("worker %s stopped: %s attempts run", self.id, self.finished)
        return 0

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    # --- claiming ---------------------------------------------------------------------------------

    def _claim_loop(self) -> None:
        opts = self.options
        while not self.stopping.is_set():
            self.wake.clear()
            with self.lock:
                held = len(self.in_flight)
            idle = opts.concurrency - held
            if idle <= 0:
                self.wake.wait(opts.poll)  # every thread is busy: a finishing job wakes this loop
                continue
            # A batch for the idle threads plus the prefetch buffer, so a deep queue costs one claim per
            # batch, not one per job. ERP jobs are claimed only for idle threads.
            try:
                claims = queue.claim_jobs(
                    worker_id=self.id,
                    limit=opts.concurrency + opts.ahead - held,
                    lease_seconds=opts.lease_seconds,
                    connection_limit=idle,
                )
            except Exception:
                logger.exception("worker %s: cannot claim jobs", self.id)
                db_connection.close()
                self.wake.wait(opts.poll)
                continue
            jobs = self._jobs_load(claims)
            for claim in claims:
                self._start(claim, jobs.get(claim.job_id))
            if claims:
                continue  # look again: more may be due, or the threads are busy now
            if opts.burst and held == 0:
                return
            self.wake.wait(self._sleep_for())

    def _sleep_for(self) -> float:
        """Until the next queued job is due, but at most the poll interval."""
        poll = self.options.poll
        try:
            nxt = queue.next_schedule_at()
            reopen = queue.next_breaker_probe_at()
        except Exception:
            db_connection.close()
            return poll
        now = timezone.now()
        waits = [(t - now).total_seconds() for t in (nxt, reopen) if t is not None]
        waits = [w for w in waits if w > 0]
        return min([poll, *waits]) if waits else poll

    def _definition(self, definition_id: int) -> tuple[str, int]:
        """A definition's name (metrics label) and timeout (watchdog), re-read every 30 s."""
        cached = self.definitions.get(definition_id)
        if cached is None or time.monotonic() - cached[2] > 30:
            row = JobDefinition.objects.filter(pk=definition_id).values_list("name", "timeout_seconds").first()
            name, timeout_seconds = row or (str(definition_id), 120)
            cached = (name, timeout_seconds, time.monotonic())
            self.definitions[definition_id] = cached
        return cached[0], cached[1]

    def _jobs_load(self, claims: list[queue.Claim]) -> dict[int, LoadedJob]:
        """The claimed jobs, read in one go (an attempt whose job is missing here reads it itself)."""
        if not claims:
            return {}
        try:
            return jobs_load([claim.job_id for claim in claims])
        except Exception:
            logger.exception("worker %s: cannot read the claimed jobs; each attempt reads its own", self.id)
            db_connection.close()
            return {}

    def _start(self, claim: queue.Claim, loaded: LoadedJob | None = None) -> None:
        name, timeout_seconds = self._definition(claim.definition_id)
        flight = InFlight(
            claim=claim,
            control=AttemptControl(),
            deadline=float("inf"),  # set when a thread starts it
            timeout_seconds=timeout_seconds,
        )
        with self.lock:
            self.in_flight[(claim.job_id, claim.attempt)] = flight
        self.claimed += 1
        assert self.executor is not None
        flight.future = self.executor.submit(self._execute, flight, name, loaded)

    def _execute(self, flight: InFlight, name: str, loaded: LoadedJob | None = None) -> None:
        claim = flight.claim
        flight.deadline = time.monotonic() + max(1, flight.timeout_seconds) + 1.0
        if self.stopping.is_set():  # claimed ahead, never started: hand it back at once
            flight.abandoned = True
            self._release(flight)
            with self.lock:
                self.in_flight.pop((claim.job_id, claim.attempt), None)
            self.wake.set()
            return
        try:
            assert self.batcher is not None
            finish = attempt_execute(
                claim,
                worker_id=self.id,
                control=flight.control,
                definition_name=name,
                loaded=loaded,
                finish=self.batcher.finish,
            )
            logger.info(
                "job %s attempt %s: %s",
                claim.job_id,
                claim.attempt,
                finish.status if finish.applied else "outcome discarded (job lost)",
            )
        except Exception:
            logger.exception("job %s attempt %s: cannot record the outcome", claim.job_id, claim.attempt)
            db_connection.close()  # a broken connection is replaced on the next job; the reaper re-queues this one
        finally:
            with self.lock:
                self.in_flight.pop((claim.job_id, claim.attempt), None)
                self.finished += 1
            self.wake.set()

    # --- maintenance ------------------------------------------------------------------------------

    def _running(self) -> bool:
        """The background threads run until the worker stops and its last attempt is over (or a hard stop)."""
        return not (self.stopping.is_set() and not self.in_flight) and not self.hard_stop.is_set()

    def _heartbeat_loop(self) -> None:
        """Renew the leases, on a thread (and database connection) of its own: nothing else waits here."""
        self._periodic_loop([Periodic(self.options.heartbeat, self._heartbeat)])

    def _maintenance_loop(self) -> None:
        opts = self.options
        tasks = [
            Periodic(min(opts.heartbeat, 1.0), self._watchdog),
            Periodic(max(0.5, opts.lease_seconds / 2), queue.leases_reap),
            Periodic(0.5, self.scheduler.tick),
            Periodic(opts.retention_every_seconds, lambda: queue.retention_run(older_than_days=opts.retention_days)),
        ]
        if opts.burst:
            tasks = tasks[:1]  # a burst worker watches its own attempts and nothing else
        self._periodic_loop(tasks)

    def _periodic_loop(self, tasks: list[Periodic]) -> None:
        tick = 0.05 if self.options.heartbeat < 1 else 0.2
        while self._running():
            now = time.monotonic()
            for task in tasks:
                if now >= task.due:
                    task.due = now + task.every
                    self._safely(task.action)
            self.hard_stop.wait(tick)
        db_connection.close()  # this thread's own connection

    def _safely(self, action: Callable[[], object]) -> None:
        try:
            action()
        except Exception:
            logger.exception("worker %s: %s failed", self.id, getattr(action, "__name__", action))
            db_connection.close()

    def _heartbeat(self) -> None:
        with self.lock:
            held = {key[0]: key[1] for key, f in self.in_flight.items() if not f.abandoned}
        if not held:
            return
        report = queue.leases_renew(worker_id=self.id, held=held, lease_seconds=self.options.lease_seconds)
        with self.lock:
            for key, flight in self.in_flight.items():
                if key[0] in report.lost:
                    flight.control.lost.set()
                if key[0] in report.cancel_requested:
                    flight.control.cancel.set()

    def _watchdog(self) -> None:
        """Abandon attempts that overran their job's timeout: record a TIMEOUT (retried like a transient
        failure); the thread's own late outcome is then fenced out."""
        now = time.monotonic()
        with self.lock:
            overdue = [f for f in self.in_flight.values() if not f.abandoned and now > f.deadline]
            for flight in overdue:
                flight.abandoned = True
        for flight in overdue:
            claim = flight.claim
            message = f"The attempt overran the job's timeout of {flight.timeout_seconds} s and was abandoned."
            queue.attempt_finish(
                job_id=claim.job_id,
                attempt=claim.attempt,
                outcome=queue.AttemptOutcome(
                    kind=queue.TIMEOUT,
                    error=message,
                    lines=[LogLine("Error", message, "Countermand", claim.attempt)],
                ),
            )
            logger.warning("job %s attempt %s abandoned: timeout", claim.job_id, claim.attempt)

    # --- wake-ups: SQLite datagrams, PostgreSQL LISTEN ---------------------------------------------

    def _wake_socket_loop(self) -> None:
        """SQLite: wake the claim loop when a process that queued a job says so (`wakeup.py`)."""
        directory = wakeup.wake_directory()
        if directory is None:
            return
        try:
            sock = wakeup.WakeSocket(directory)
        except OSError:
            logger.exception("worker %s: cannot listen for wake-ups in %s; polling", self.id, directory)
            return
        try:
            while not self.stopping.is_set():
                if sock.wait(1.0):
                    self.wake.set()
        finally:
            sock.close()

    def _listen_loop(self) -> None:
        import psycopg

        # A direct connection (COUNTERMAND_LISTEN_DATABASE_URL, default DATABASE_URL): a pooler in transaction
        # mode would hand LISTEN to one server connection and this session's later waits to others.
        params = listen_connection_params()
        where = f"{params.get('host', 'local socket')}:{params.get('port', 5432)}/{params.get('dbname', '')}"
        while not self.stopping.is_set():
            try:
                with psycopg.connect(psycopg.conninfo.make_conninfo(**params), autocommit=True) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    logger.info("worker %s: listening for %s on %s", self.id, NOTIFY_CHANNEL, where)
                    self.wake.set()  # catch up on what was queued while not listening
                    while not self.stopping.is_set():
                        for _ in conn.notifies(timeout=1.0, stop_after=1):
                            self.wake.set()
            except Exception:
                logger.exception("worker %s: LISTEN connection lost; polling until it is back", self.id)
                self.stopping.wait(2.0)

    # --- stopping ---------------------------------------------------------------------------------

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def on_signal(signum: int, _frame: object) -> None:
            if self.stopping.is_set():
                logger.warning("worker %s: second signal, handing back running jobs now", self.id)
                self.hard_stop.set()
            else:
                logger.info("worker %s: stopping (signal %s); running jobs may finish", self.id, signum)
            self.stop()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def _drain(self) -> None:
        """Wait for running attempts (up to the grace period), then hand back the rest."""
        with self.lock:
            waiting = [f for f in self.in_flight.values() if f.future is not None and f.future.cancel()]
            for flight in waiting:
                self.in_flight.pop((flight.claim.job_id, flight.claim.attempt), None)
        for flight in waiting:  # claimed ahead, never started
            self._release(flight)
        deadline = time.monotonic() + self.options.grace_seconds
        while self.in_flight and time.monotonic() < deadline and not self.hard_stop.is_set():
            self.hard_stop.wait(0.05)
        with self.lock:
            left = [f for f in self.in_flight.values() if not f.abandoned]
        for flight in left:
            self._release(flight)
        if left:
            logger.warning("worker %s handed back %s running job(s)", self.id, len(left))
            self.hard_stop.set()

    def _release(self, flight: InFlight) -> None:
        """Hand a job back to the queue unfinished: re-queued now, the attempt not counted."""
        claim = flight.claim
        message = f"Worker {self.id} stopped before attempt {claim.attempt} finished; the job is handed back."
        with contextlib.suppress(Exception):
            queue.attempt_finish(
                job_id=claim.job_id,
                attempt=claim.attempt,
                outcome=queue.AttemptOutcome(
                    kind=queue.RELEASED, error=message, lines=[LogLine("Warn", message, "Countermand", claim.attempt)]
                ),
            )
