"""How fast the integration worker drains the queue, beside the pure-SQL claim+complete ceiling.

    .venv/bin/python bench/queue.py [--jobs 10000] [--concurrency 8] [--pg-url postgres://postgres@127.0.0.1:5432/cm_engine_bench]
                                    [--only sqlite|postgresql] [--pgbouncer]

For each database (a fresh SQLite file; a fresh PostgreSQL database, dropped and re-created), for 1 and
2 processes:
- **worker**: N queued jobs of a `NoOp` job definition, drained by `countermand worker --burst` processes
  (the real claim, pipeline, job log and fenced completion); the rate is N over the window from the
  first claim to the last completion, read from the job table, so process start-up is not counted;
- **ceiling**: the same N rows claimed and completed by bare SQL from the same number of processes
  (PostgreSQL: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT b) RETURNING`; SQLite:
  `BEGIN IMMEDIATE` select + compare-and-set update), then one fenced `UPDATE` per job — the least any
  queue on this table must do — in the same run, so the ratio is meaningful.

`--pgbouncer`: PostgreSQL also with 4 processes, then the 4-process round again through Debian's PgBouncer in
transaction pooling mode (started by the bench on a free port, at most 10 server connections; the workers'
DATABASE_URL through it, COUNTERMAND_LISTEN_DATABASE_URL direct; the ceiling's psycopg without prepared
statements, which transaction pooling cannot keep), printed beside the direct figures.
"""

from __future__ import annotations

import os
import sys

# This file is named queue.py: keep its directory off sys.path so `import queue` finds the standard library.
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != os.path.dirname(os.path.realpath(__file__))]

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import multiprocessing  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
JOB_TABLE = "integration_integrationjob"


# ------------------------------------------------------------------------------------------ set-up


def fresh_database(url: str) -> None:
    """Create an empty, migrated database at `url` (PostgreSQL: dropped first)."""
    from countermand.devtools.databases import database_fresh

    database_fresh(url)


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "countermand.project.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def queue_jobs(count: int) -> int:
    """Empty the job table and queue `count` NoOp jobs; returns the definition id."""
    from django.db import connection
    from django.utils import timezone

    from countermand.integration.models import IntegrationJob, IntegrationJobLog, JobDefinition

    definition, _ = JobDefinition.objects.get_or_create(name="BenchNoOp", defaults={"integration_processor": "NoOp"})
    IntegrationJobLog.objects.all().delete()
    IntegrationJob.objects.all().delete()
    now = timezone.now()
    IntegrationJob.objects.bulk_create(
        (
            IntegrationJob(
                definition=definition, schedule_at=now, max_attempts=1, idempotency_key=f"bench-{uuid.uuid4()}"
            )
            for _ in range(count)
        ),
        batch_size=2000,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM ANALYZE {JOB_TABLE}")
    connection.close()
    return definition.pk


def drain_window() -> tuple[float, int]:
    """Seconds from the first claim to the last completion, and the number of successful jobs."""
    from django.db.models import Count, Max, Min

    from countermand.integration.models import IntegrationJob

    row = IntegrationJob.objects.filter(status="Success").aggregate(
        first=Min("started_at"), last=Max("finished_at"), n=Count("id")
    )
    return (row["last"] - row["first"]).total_seconds(), row["n"]


# ------------------------------------------------------------------------------------------ worker


def run_workers(url: str, processes: int, concurrency: int, listen_url: str = "") -> None:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "COUNTERMAND_LISTEN_DATABASE_URL": listen_url if url.startswith("postgres") else "",
        "COUNTERMAND_LOG_LEVEL": "WARNING",
        "COUNTERMAND_WORKER_POLL_SECONDS": "0.05",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "countermand", "worker", "--burst", "--concurrency", str(concurrency)],
            env=env,
            cwd=ROOT,
        )
        for _ in range(processes)
    ]
    for proc in procs:
        if proc.wait() != 0:
            raise SystemExit(f"worker exited with {proc.returncode}")


# ------------------------------------------------------------------------------------------ ceiling


def ceiling_process(url: str, batch: int, done: multiprocessing.Queue, prepare: bool = True) -> None:
    """Bare-SQL claim + fenced completion until the queue is empty; puts the count done."""
    count = 0
    owner = f"ceiling-{os.getpid()}"
    if url.startswith("sqlite"):
        path = urlparse(url).path
        db = sqlite3.connect(path, isolation_level=None, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        while True:
            now = datetime.datetime.now(datetime.UTC).isoformat(" ")
            db.execute("BEGIN IMMEDIATE")
            ids = [
                r[0]
                for r in db.execute(
                    f"SELECT id FROM {JOB_TABLE} WHERE status='Queued' AND schedule_at <= ? "
                    "ORDER BY schedule_at, id LIMIT ?",
                    (now, batch),
                )
            ]
            if ids:
                marks = ",".join("?" * len(ids))
                db.execute(
                    f"UPDATE {JOB_TABLE} SET status='InProcess', attempt=attempt+1, lease_owner=?, "
                    f"lease_expires_at=?, started_at=? WHERE id IN ({marks}) AND status='Queued'",
                    (owner, now, now, *ids),
                )
                rows = db.execute(
                    f"SELECT id, attempt FROM {JOB_TABLE} WHERE id IN ({marks}) AND lease_owner=?", (*ids, owner)
                ).fetchall()
            db.execute("COMMIT")
            if not ids:
                break
            for job_id, attempt in rows:
                db.execute(
                    f"UPDATE {JOB_TABLE} SET status='Success', finished_at=?, lease_owner='', lease_expires_at=NULL "
                    "WHERE id=? AND attempt=? AND status='InProcess'",
                    (datetime.datetime.now(datetime.UTC).isoformat(" "), job_id, attempt),
                )
                count += 1
    else:
        import psycopg

        # Through PgBouncer (transaction pooling) no prepared statements: the next execution of one may land on
        # another server connection. Django never prepares them (prepare_threshold None); psycopg's default is 5.
        with psycopg.connect(url, autocommit=True, prepare_threshold=5 if prepare else None) as db:
            while True:
                rows = db.execute(
                    f"UPDATE {JOB_TABLE} SET status='InProcess', attempt=attempt+1, lease_owner=%s, "
                    "lease_expires_at=now() + interval '30 seconds', started_at=now() "
                    f"WHERE id IN (SELECT id FROM {JOB_TABLE} WHERE status='Queued' AND schedule_at <= now() "
                    "ORDER BY schedule_at, id LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING id, attempt",
                    (owner, batch),
                ).fetchall()
                if not rows:
                    break
                for job_id, attempt in rows:
                    db.execute(
                        f"UPDATE {JOB_TABLE} SET status='Success', finished_at=now(), lease_owner='', "
                        "lease_expires_at=NULL WHERE id=%s AND attempt=%s AND status='InProcess'",
                        (job_id, attempt),
                    )
                    count += 1
    done.put(count)


def run_ceiling(url: str, processes: int, batch: int, prepare: bool = True) -> tuple[float, int]:
    done: multiprocessing.Queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=ceiling_process, args=(url, batch, done, prepare)) for _ in range(processes)
    ]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    total = sum(done.get(timeout=600) for _ in procs)  # a ceiling process that failed puts nothing
    for proc in procs:
        proc.join()
    return time.perf_counter() - started, total


# ------------------------------------------------------------------------------------------ driver


def measure(
    url: str, jobs: int, concurrency: int, counts: tuple[int, ...] = (1, 2), pooled: str = ""
) -> dict[str, dict[int, float]]:
    """Runs in a child process configured for `url`; returns jobs/s per kind and process count. With `pooled`
    (the same database through PgBouncer) the workers and the ceiling go through it; the jobs are queued direct."""
    django_setup(url)
    rates: dict[str, dict[int, float]] = {"worker": {}, "ceiling": {}}
    for processes in counts:
        queue_jobs(jobs)
        run_workers(pooled or url, processes, concurrency, listen_url=url)
        window, done = drain_window()
        if done != jobs:
            raise SystemExit(f"worker drained {done} of {jobs} jobs")
        rates["worker"][processes] = jobs / window

        queue_jobs(jobs)
        seconds, done = run_ceiling(pooled or url, processes, concurrency, prepare=not pooled)
        if done != jobs:
            raise SystemExit(f"ceiling drained {done} of {jobs} jobs")
        rates["ceiling"][processes] = jobs / seconds
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=8, help="worker threads (and ceiling batch size)")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/cm_engine_bench")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument(
        "--pgbouncer", action="store_true", help="PostgreSQL also with 4 processes, direct and through PgBouncer"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--counts", default="1,2", help=argparse.SUPPRESS)
    parser.add_argument("--pooled", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        counts = tuple(int(n) for n in args.counts.split(","))
        print(json.dumps(measure(args.child, args.jobs, args.concurrency, counts, args.pooled)))
        return

    with tempfile.TemporaryDirectory(prefix="countermand-bench-") as tmp:
        targets = {"sqlite": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "postgresql": args.pg_url}
        if args.only:
            targets = {args.only: targets[args.only]}
        print(f"{args.jobs} NoOp jobs, worker --concurrency {args.concurrency}, jobs/s (higher is better)\n")
        print(f"{'database':<11} {'processes':>9} {'worker':>9} {'ceiling':>9} {'worker/ceiling':>15}")
        for name, url in targets.items():
            fresh_database(url)
            counts = ("1", "2", "4") if args.pgbouncer and name == "postgresql" else ("1", "2")
            rates = run_child(url, args, counts)
            for processes in counts:
                worker, ceiling = rates["worker"][processes], rates["ceiling"][processes]
                print(f"{name:<11} {processes:>9} {worker:>9.0f} {ceiling:>9.0f} {worker / ceiling:>15.2f}")
            scale = rates["worker"]["2"] / rates["worker"]["1"]
            print(
                f"{name:<11} 2 processes / 1 process: worker x{scale:.2f}, "
                f"ceiling x{rates['ceiling']['2'] / rates['ceiling']['1']:.2f}"
            )
            if counts[-1] == "4":
                pooled_rates(url, args, rates)


def run_child(url: str, args: argparse.Namespace, counts: tuple[str, ...], pooled: str = "") -> dict:
    command = [sys.executable, __file__, "--child", url, "--jobs", str(args.jobs)]
    command += ["--concurrency", str(args.concurrency), "--counts", ",".join(counts), "--pooled", pooled]
    child = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(child.stdout.strip().splitlines()[-1])


def pooled_rates(url: str, args: argparse.Namespace, direct: dict) -> None:
    """The 4-process round again, the workers and the ceiling through PgBouncer (transaction pooling)."""
    sys.path.insert(0, str(ROOT))
    from countermand.devtools.pgbouncer import pgbouncer_for

    bouncer, pooled = pgbouncer_for(url, pool_size=10)
    try:
        rates = run_child(url, args, ("4",), pooled)
    finally:
        bouncer.stop()
    worker, ceiling = rates["worker"]["4"], rates["ceiling"]["4"]
    print(f"{'pgbouncer':<11} {4:>9} {worker:>9.0f} {ceiling:>9.0f} {worker / ceiling:>15.2f}")
    print(
        f"{'pgbouncer':<11} through PgBouncer (10 server connections) / direct, 4 processes: "
        f"worker x{worker / direct['worker']['4']:.2f}, ceiling x{ceiling / direct['ceiling']['4']:.2f}"
    )


if __name__ == "__main__":
    main()
