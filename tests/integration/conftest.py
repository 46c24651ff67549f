"""Fixtures of the integration engine's tests: a real fake ERP on 127.0.0.1, a shop whose OrderCancel job
talks to it, helpers that run the queue in this process or in real worker processes, and Debian's PgBouncer
in front of the test database (the PostgreSQL pass only)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from countermand.cancellations.models import CancellationRequest
from countermand.cancellations.services import order_cancel_request
from countermand.devtools.pgbouncer import PgBouncer, PgBouncerMissing, pgbouncer_start
from countermand.integration import queue
from countermand.integration.models import IntegrationJob, JobDefinition
from countermand.integration.testing import run_due_jobs
from tests.factories import OrderFactory
from tests.integration.fake_erp import FakeErp

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_erp() -> Iterator[FakeErp]:
    erp = FakeErp().start()
    yield erp
    erp.stop()


@pytest.fixture
def erp_shop(shop, fake_erp):
    """The guide's shop whose OrderCancel job (WebServiceOrderCancel) talks to the fake ERP."""
    definition = JobDefinition.objects.get(name="OrderCancel")
    conn = definition.connection
    conn.url = fake_erp.url
    conn.timeout_seconds = 5
    conn.save()
    definition.retry_backoff_seconds = 0
    definition.save()
    return shop


def cancel(shop, order=None, **order_fields) -> CancellationRequest:
    """A buyer requests the cancellation of `order` (a new Submitted order by default)."""
    order = order or OrderFactory(website=shop.website, customer=shop.customer, placed_by=shop.buyer, **order_fields)
    return order_cancel_request(order=order, actor=shop.actor, channel="storefront", reason_code="Other")


def drain(worker_id: str = "test-worker", rounds: int = 50) -> list[queue.Finish]:
    """Run every due job in this thread (claim → pipeline → fenced finish) until nothing is due."""
    return run_due_jobs(worker_id, rounds=rounds)


def database_url() -> str:
    """The test database as a DATABASE_URL for worker subprocesses."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class WorkerProcesses:
    """Real `countermand worker` processes on the test database, with short leases for quick tests."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []
        self.env: dict[str, str] = {}  # on top of the defaults, for every process (the `route` fixture's)

    def start(self, *args: str, name: str = "", **env: str) -> subprocess.Popen:
        name = name or f"w{len(self.procs)}"
        environment = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "COUNTERMAND_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "COUNTERMAND_WORKER_LEASE_SECONDS": "2",
            "COUNTERMAND_WORKER_HEARTBEAT_SECONDS": "0.4",
            "COUNTERMAND_WORKER_POLL_SECONDS": "0.1",
            "PYTHONUNBUFFERED": "1",
            **self.env,
            **env,
        }
        log = open(self.log_dir / f"{name}-{len(self.procs)}.log", "w")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            [sys.executable, "-m", "countermand", "worker", "--worker-id", name, *args],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.log_dir.glob("*.log")))

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def workers(tmp_path) -> Iterator[WorkerProcesses]:
    procs = WorkerProcesses(tmp_path)
    yield procs
    procs.stop_all()


def job_statuses() -> dict[str, int]:
    from django.db.models import Count

    return dict(IntegrationJob.objects.values_list("status").annotate(n=Count("id")).order_by())


# --- PgBouncer: how PostgreSQL installations run many web and worker processes

POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
# How worker processes reach the database (parametrize `route` indirectly with it): direct, and on the
# PostgreSQL pass also through PgBouncer in transaction pooling mode. The SQLite pass has no such case
# (a pooler of PostgreSQL connections means nothing there); on the PostgreSQL pass it runs, and fails
# without PgBouncer.
WORKER_ROUTES = ["direct", "pgbouncer"] if POSTGRES else ["direct"]


@pytest.fixture
def pgbouncer() -> Iterator[PgBouncer]:
    """Debian's PgBouncer on a free 127.0.0.1 port, transaction pooling, in front of the test database's
    server, at most 10 server connections. Fails (never skips) when PgBouncer is not installed."""
    if connection.vendor != "postgresql":
        pytest.fail("PgBouncer pools PostgreSQL connections: this test belongs to the PostgreSQL pass")
    s = connection.settings_dict
    try:
        bouncer = pgbouncer_start(
            server_host=s["HOST"] or "127.0.0.1",
            server_port=int(s["PORT"] or 5432),
            user=s["USER"] or "postgres",
            password=s["PASSWORD"] or "",
            pool_size=10,
        )
    except PgBouncerMissing as exc:
        pytest.fail(str(exc))
    yield bouncer
    bouncer.stop()


@dataclass
class WorkerRoute:
    name: str  # "direct" or "pgbouncer"
    pgbouncer: PgBouncer | None = None


@pytest.fixture
def route(request, workers) -> Iterator[WorkerRoute]:
    """How the `workers` reach the test database. "pgbouncer": DATABASE_URL through a PgBouncer in transaction
    pooling mode, COUNTERMAND_LISTEN_DATABASE_URL direct to the server (LISTEN needs a session of its own)."""
    name = getattr(request, "param", "direct")
    bouncer = None
    if name == "pgbouncer":
        bouncer = request.getfixturevalue("pgbouncer")
        workers.env.update(
            DATABASE_URL=bouncer.url(connection.settings_dict["NAME"]),
            COUNTERMAND_LISTEN_DATABASE_URL=database_url(),
        )
    yield WorkerRoute(name, bouncer)
    workers.stop_all()  # before PgBouncer stops under them
