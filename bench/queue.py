"""How fast the integration worker drains the queue, beside the pure-SQL claim+complete ceiling.

    .venv/bin/python bench/queue.py [--jobs 10000] [--concurrency 8] [--pg-url postgres://postgres@127.0.0.1:5432/cm_engine_bench]
                                    [--only sqlite|postgresql]

For each database (a fresh SQLite file; a fresh PostgreSQL database, dropped and re-created), for 1 and
2 processes:
- **worker**: N queued jobs of a `NoOp` job definition, drained by `countermand worker --burst` processes
  (the real claim, pipeline, job log and fenced completion); the rate is N over the window from the
  first claim to the last completion, read from the job table, so process start-up is not counted;
- **ceiling**: the same N rows claimed and completed by bare SQL from the same number of processes
  (PostgreSQL: `UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT b) RETURNING`; SQLite:
  `BEGIN IMMEDIATE` select + compare-and-set update), then one fenced `UPDATE` per job — the least any
  queue on this table must do — in the same run, so the ratio is meaningful.
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
    parsed = urlparse(url)
    if parsed.scheme.startswith("postgres"):
        import psycopg

        name = parsed.path.lstrip("/")
        admin = url.replace(parsed.path, "/postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "countermand", "manage", "migrate", "-v0"], env=env, check=True, cwd=ROOT)


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


def run_workers(url: str, processes: int, concurrency: int) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": url,
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


def ceiling_process(url: str, batch: int, done: multiprocessing.Queue) -> None:
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

        with psycopg.connect(url, autocommit=True) as db:
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


def run_ceiling(url: str, processes: int, batch: int) -> tuple[float, int]:
    done: multiprocessing.Queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=ceiling_process, args=(url, batch, done)) for _ in range(processes)]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    total = sum(done.get() for _ in procs)
    for proc in procs:
        proc.join()
    return time.perf_counter() - started, total


# ------------------------------------------------------------------------------------------ driver


def measure(url: str, jobs: int, concurrency: int) -> dict[str, dict[int, float]]:
    """Runs in a child process configured for `url`; returns jobs/s per kind and process count."""
    django_setup(url)
    rates: dict[str, dict[int, float]] = {"worker": {}, "ceiling": {}}
    for processes in (1, 2):
        queue_jobs(jobs)
        run_workers(url, processes, concurrency)
        window, done = drain_window()
        if done != jobs:
            raise SystemExit(f"worker drained {done} of {jobs} jobs")
        rates["worker"][processes] = jobs / window

        queue_jobs(jobs)
        seconds, done = run_ceiling(url, processes, concurrency)
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
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.jobs, args.concurrency)))
        return

    with tempfile.TemporaryDirectory(prefix="countermand-bench-") as tmp:
        targets = {"sqlite": f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "postgresql": args.pg_url}
        if args.only:
            targets = {args.only: targets[args.only]}
        print(f"{args.jobs} NoOp jobs, worker --concurrency {args.concurrency}, jobs/s (higher is better)\n")
        print(f"{'database':<11} {'processes':>9} {'worker':>9} {'ceiling':>9} {'worker/ceiling':>15}")
        for name, url in targets.items():
            fresh_database(url)
            child = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    url,
                    "--jobs",
                    str(args.jobs),
                    "--concurrency",
                    str(args.concurrency),
                ],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            rates = json.loads(child.stdout.strip().splitlines()[-1])
            for processes in ("1", "2"):
                worker, ceiling = rates["worker"][processes], rates["ceiling"][processes]
                print(f"{name:<11} {processes:>9} {worker:>9.0f} {ceiling:>9.0f} {worker / ceiling:>15.2f}")
            scale = rates["worker"]["2"] / rates["worker"]["1"]
            print(
                f"{name:<11} 2 processes / 1 process: worker x{scale:.2f}, "
                f"ceiling x{rates['ceiling']['2'] / rates['ceiling']['1']:.2f}"
            )


if __name__ == "__main__":
    main()
