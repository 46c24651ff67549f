"""ERP-bound throughput: how close one worker gets to what a slow ERP and its connection limit allow.

    .venv/bin/python bench/erp_bound.py [--jobs 800] [--concurrency 16] [--latency-ms 100] [--max-concurrent 16]
                                        [--pg-url postgres://postgres@127.0.0.1:5432/cm_bench_erp_bound]
                                        [--only sqlite|postgresql]

An HTTP ERP runs in this process on 127.0.0.1 (`countermand.integration.testing.FakeHttpErp`, a threading
HTTP server): every `POST …/orders/<n>/cancel` sleeps `--latency-ms` (100) and answers 200
`{"status": "Cancelled"}`. For each database (a fresh SQLite file; a fresh PostgreSQL database, dropped and
re-created): a `WebService` connection to it with *max concurrent jobs* `--max-concurrent` (16), a
`WebServiceOrderCancel` job definition on it, N queued jobs (each with its `OrderNumber`), drained by one
`countermand worker --burst --concurrency C` process (the real claim under the connection's limit, the
pipeline, the HTTP call through the connection's pooled client, the job log and the fenced completion).

The rate is N over the window from the first claim to the last completion, read from the job table (as
bench/queue.py does), so process start-up is not counted. The bound is limit / latency (16 / 0.1 s =
160 jobs/s): no worker can exceed it without breaking the connection's limit. Efficiency = rate / bound.
The ERP also reports the most calls it had in flight at once (must not exceed the limit) and the mean
time a job holds its connection slot beyond the ERP's latency (claim → finish minus the call); *worker CPU
ms/job* is the worker process's CPU time (start-up included) over N — at 1000 / that many jobs/s one
process is bound by its own CPU (the GIL), whatever the ERP allows.
"""

from __future__ import annotations

import os
import sys

# bench/ holds a queue.py: keep this directory off sys.path so `import queue` finds the standard library.
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != os.path.dirname(os.path.realpath(__file__))]

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from countermand.integration.testing import FakeHttpErp, FakeRequest  # noqa: E402

JOB_TABLE = "integration_integrationjob"


# ------------------------------------------------------------------------------------------ the ERP


class SlowErp(FakeHttpErp):
    """Answers every cancel after `latency` seconds; counts calls and the most in flight at once."""

    prefix = "/erp"

    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls = 0

    def handle(self, request: FakeRequest) -> tuple[int, Any]:
        if request.method != "POST" or not request.path.endswith("/cancel"):
            return 404, {"message": f"no {request.method} {request.path}"}
        with self.lock:
            self.in_flight += 1
            self.calls += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            time.sleep(self.latency)
            return 200, {"status": "Cancelled", "reference": request.path.split("/")[-2], "message": "done"}
        finally:
            with self.lock:
                self.in_flight -= 1

    def reset(self) -> None:
        with self.lock:
            self.max_in_flight = self.calls = 0

    def _answer(self, request: FakeRequest) -> tuple[int, Any]:
        return self.handle(request)  # keep no request list: a bench makes many


# ------------------------------------------------------------------------------------------ set-up


def fresh_database(url: str) -> None:
    """Create an empty, migrated database at `url` (PostgreSQL: dropped first)."""
    from countermand.devtools.databases import database_fresh

    database_fresh(url)


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "countermand.project.settings")
    import django

    django.setup()


def queue_jobs(erp_url: str, count: int, max_concurrent: int) -> None:
    """A WebService connection to the ERP, a WebServiceOrderCancel definition, and `count` queued jobs."""
    from django.db import connection, transaction
    from django.utils import timezone

    from countermand.integration.models import (
        IntegrationConnection,
        IntegrationJob,
        IntegrationJobParameter,
        JobDefinition,
        JobDefinitionParameter,
    )
    from countermand.integration.services import connection_validate

    erp = IntegrationConnection(
        name="Bench ERP", type_name="WebService", url=erp_url, timeout_seconds=30, max_concurrent_jobs=max_concurrent
    )
    connection_validate(erp)
    erp.save()
    definition = JobDefinition.objects.create(
        name="BenchErpCancel",
        connection=erp,
        integration_processor="WebServiceOrderCancel",
        max_retries=0,
        timeout_seconds=60,
    )
    spec = JobDefinitionParameter.objects.create(job_definition=definition, name="OrderNumber")
    now = timezone.now()
    with transaction.atomic():
        jobs = IntegrationJob.objects.bulk_create(
            (
                IntegrationJob(
                    definition=definition,
                    connection=erp,
                    schedule_at=now,
                    max_attempts=1,
                    idempotency_key=f"bench-{uuid.uuid4()}",
                )
                for _ in range(count)
            ),
            batch_size=2000,
        )
        IntegrationJobParameter.objects.bulk_create(
            (
                IntegrationJobParameter(job=job, definition_parameter=spec, name="OrderNumber", value=f"B{i:06d}")
                for i, job in enumerate(jobs)
            ),
            batch_size=2000,
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {JOB_TABLE}")
    connection.close()


def run_worker(url: str, concurrency: int, poll_seconds: float | None) -> float:
    """Drain the queue with one burst worker; returns the CPU seconds the worker process used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "DATABASE_URL": url, "COUNTERMAND_LOG_LEVEL": "WARNING"}
    if poll_seconds:
        env["COUNTERMAND_WORKER_POLL_SECONDS"] = str(poll_seconds)
    proc = subprocess.run(
        [sys.executable, "-m", "countermand", "worker", "--burst", "--concurrency", str(concurrency)],
        env=env,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker exited with {proc.returncode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def drain_figures() -> dict[str, float]:
    """The window from the first claim to the last completion, the jobs done, and the mean slot time."""
    from django.db.models import Count, Max, Min

    from countermand.integration.models import IntegrationJob

    done = IntegrationJob.objects.filter(status="Success")
    row = done.aggregate(first=Min("started_at"), last=Max("finished_at"), n=Count("id"))
    slots = [(f - s).total_seconds() for s, f in done.values_list("started_at", "finished_at")]
    not_done = IntegrationJob.objects.exclude(status="Success").count()
    return {
        "window": (row["last"] - row["first"]).total_seconds(),
        "done": row["n"],
        "not_done": not_done,
        "slot": sum(slots) / len(slots) if slots else 0.0,
    }


# ------------------------------------------------------------------------------------------ driver


def measure(url: str, args: argparse.Namespace) -> dict[str, float]:
    """Runs in a child process configured for `url`; the ERP runs in the parent."""
    django_setup(url)
    queue_jobs(args.erp_url, args.jobs, args.max_concurrent)
    cpu = run_worker(url, args.concurrency, args.poll_seconds)
    return {**drain_figures(), "cpu": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=800)
    parser.add_argument("--concurrency", type=int, default=16, help="worker threads (default 16)")
    parser.add_argument("--max-concurrent", type=int, default=16, help="the connection's max concurrent jobs")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="the ERP's time per call")
    parser.add_argument("--poll-seconds", type=float, help="COUNTERMAND_WORKER_POLL_SECONDS (default: the product's)")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/cm_bench_erp_bound")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--erp-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args)))
        return

    if args.latency_ms <= 0:
        parser.error("--latency-ms must be more than 0 (the bound is the limit over the latency)")
    latency = args.latency_ms / 1000
    bound = args.max_concurrent / latency
    with tempfile.TemporaryDirectory(prefix="countermand-bench-") as tmp, SlowErp(latency) as erp:
        targets = {"sqlite": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "postgresql": args.pg_url}
        if args.only:
            targets = {args.only: targets[args.only]}
        print(
            f"{args.jobs} WebServiceOrderCancel jobs, ERP {args.latency_ms:.0f} ms per call, connection limit "
            f"{args.max_concurrent}, one worker --concurrency {args.concurrency}; jobs/s (higher is better)\n"
        )
        print(
            f"{'database':<11} {'worker':>8} {'bound':>8} {'efficiency':>11} {'max in flight':>14} "
            f"{'slot ms':>8} {'overhead ms':>12} {'worker CPU ms/job':>18}"
        )
        for name, url in targets.items():
            fresh_database(url)
            erp.reset()
            child = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    url,
                    "--erp-url",
                    erp.url,
                    *("--jobs", str(args.jobs), "--concurrency", str(args.concurrency)),
                    *("--max-concurrent", str(args.max_concurrent)),
                    *(("--poll-seconds", str(args.poll_seconds)) if args.poll_seconds else ()),
                ],
                check=True,
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            figures = json.loads(child.stdout.strip().splitlines()[-1])
            if figures["done"] != args.jobs:
                raise SystemExit(f"{name}: {figures['done']} of {args.jobs} jobs succeeded ({figures})")
            rate = figures["done"] / figures["window"]
            slot_ms = figures["slot"] * 1000
            print(
                f"{name:<11} {rate:>8.1f} {bound:>8.1f} {rate / bound:>10.1%} {erp.max_in_flight:>14} "
                f"{slot_ms:>8.1f} {slot_ms - args.latency_ms:>12.1f} {1000 * figures['cpu'] / args.jobs:>18.1f}"
            )


if __name__ == "__main__":
    main()
