"""Our worker beside the queues a PostgreSQL user would pick instead — procrastinate and pgqueuer — on the
same PostgreSQL, interleaved, in one run, with the pure-SQL ceiling `bench/queue.py` measures.

    .venv/bin/python bench/peers.py [--jobs 5000] [--rounds 4] [--concurrency 8]
                                    [--pg-url postgres://postgres@127.0.0.1:5432/cm_peers_bench]

Each round, for each contender in turn (the order rotates from round to round, so a noisy neighbour
hurts each one alike): a fresh database, N no-op jobs queued first, then one process with `concurrency`
slots drains them. The rate is N over the drain's wall time, read from each queue's own tables (first
start to last completion), so process start-up counts for nobody:

- **countermand**: `countermand worker --burst --concurrency C` on `IntegrationJob` rows of a NoOp job
  definition (the real claim, pipeline, job log and fenced completion);
- **procrastinate** 3.10 (psycopg): `run_worker_async(concurrency=C, wait=False)`, a `noop` task
  (window from its `procrastinate_events`);
- **pgqueuer** 1.6 (asyncpg): `QueueManager.run(batch_size=10, mode=drain)`, a `noop` entrypoint
  (window from its `pgqueuer_log`). It gets its fastest setting, not a cap of C: its async no-op tasks
  need no slots, and its SQL-enforced caps (`concurrency_limit`, `max_concurrent_tasks`) made it 3 to 6 times
  slower here;
- **ceiling**: bare SQL claim + fenced completion of the same rows (see bench/queue.py).

The peers are installed by this script into a virtualenv of their own (`bench/.peers-venv`, made on
first run through pip), never into the product's. It prints each round's figures and the medians, with
our ratio to each peer.
"""

from __future__ import annotations

import os
import sys

# bench/queue.py is named like the standard library's queue: keep bench/ off sys.path, load it by path.
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != os.path.dirname(os.path.realpath(__file__))]

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import venv  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PEERS_VENV = ROOT / "bench" / ".peers-venv"
PEER_PACKAGES = ["procrastinate[psycopg]==3.10.0", "pgqueuer==1.6.0", "asyncpg==0.32.0"]


def peers_python() -> Path:
    """The peer virtualenv's interpreter, made (and the peers installed) on first use."""
    python = PEERS_VENV / "bin" / "python"
    marker = PEERS_VENV / "installed.json"
    if not (python.exists() and marker.exists() and json.loads(marker.read_text()) == PEER_PACKAGES):
        print(f"installing {', '.join(PEER_PACKAGES)} into {PEERS_VENV} …", flush=True)
        venv.create(PEERS_VENV, with_pip=True, clear=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *PEER_PACKAGES], check=True
        )
        marker.write_text(json.dumps(PEER_PACKAGES))
    return python


def recreate_database(url: str) -> None:
    from countermand.devtools.databases import database_recreate

    database_recreate(url)


# The peers' side, run by the peer venv's interpreter: `driver.py procrastinate|pgqueuer URL N C`.
# It queues N jobs, drains them with one worker of C slots, and prints the drain window in seconds.
PEER_DRIVER = r"""
import asyncio, sys
kind, url, n, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


async def procrastinate_run():
    import procrastinate, psycopg

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=url))

    @app.task(name="noop")
    async def noop():
        return None

    async with app.open_async():
        await app.schema_manager.apply_schema_async()
        for start in range(0, n, 1000):
            await noop.batch_defer_async(*[{} for _ in range(min(1000, n - start))])
        await app.run_worker_async(concurrency=concurrency, wait=False, install_signal_handlers=False)
    with psycopg.connect(url) as conn:
        first, last, done = conn.execute(
            "SELECT min(at) FILTER (WHERE type = 'started'), max(at) FILTER (WHERE type = 'succeeded'), "
            "count(*) FILTER (WHERE type = 'succeeded') FROM procrastinate_events"
        ).fetchone()
    return (last - first).total_seconds(), done


async def pgqueuer_run():
    import asyncpg
    from pgqueuer import AsyncpgDriver, Queries, QueueManager
    from pgqueuer.domain.types import QueueExecutionMode

    conn = await asyncpg.connect(url)
    driver = AsyncpgDriver(conn)
    queries = Queries(driver)
    await queries.install()
    for start in range(0, n, 1000):
        size = min(1000, n - start)
        await queries.enqueue(["noop"] * size, [None] * size, [0] * size)
    manager = QueueManager(queries)

    @manager.entrypoint("noop")
    async def noop(job):
        return None

    await manager.run(batch_size=10, mode=QueueExecutionMode.drain)
    row = await conn.fetchrow(
        "SELECT min(created) FILTER (WHERE status = 'picked') AS first, "
        "max(created) FILTER (WHERE status = 'successful') AS last, "
        "count(*) FILTER (WHERE status = 'successful') AS done FROM pgqueuer_log"
    )
    await conn.close()
    return (row["last"] - row["first"]).total_seconds(), row["done"]


seconds, done = asyncio.run(procrastinate_run() if kind == "procrastinate" else pgqueuer_run())
print(seconds, done)
"""


def run_peer(python: Path, driver: Path, kind: str, url: str, jobs: int, concurrency: int) -> float:
    recreate_database(url)
    out = subprocess.run(
        [str(python), str(driver), kind, url, str(jobs), str(concurrency)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    seconds, done = float(out[-2]), int(out[-1])
    if done != jobs:
        raise SystemExit(f"{kind} finished {done} of {jobs} jobs")
    return jobs / seconds


def run_ours(url: str, jobs: int, concurrency: int) -> float:
    """Our worker, in a subprocess of its own so this process keeps no Django state between rounds."""
    code = (
        "import sys, importlib.util;"
        f"spec = importlib.util.spec_from_file_location('bq', {str(ROOT / 'bench' / 'queue.py')!r});"
        "bq = importlib.util.module_from_spec(spec); spec.loader.exec_module(bq);"
        f"bq.fresh_database({url!r}); bq.django_setup({url!r}); bq.queue_jobs({jobs});"
        f"bq.run_workers({url!r}, 1, {concurrency}); seconds, done = bq.drain_window(); print(seconds, done)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    seconds, done = out.stdout.split()[-2:]
    if int(done) != jobs:
        raise SystemExit(f"countermand finished {done} of {jobs} jobs")
    return jobs / float(seconds)


def run_ceiling(url: str, jobs: int, concurrency: int) -> float:
    code = (
        "import importlib.util;"
        f"spec = importlib.util.spec_from_file_location('bq', {str(ROOT / 'bench' / 'queue.py')!r});"
        "bq = importlib.util.module_from_spec(spec); spec.loader.exec_module(bq);"
        f"bq.fresh_database({url!r}); bq.django_setup({url!r}); bq.queue_jobs({jobs});"
        f"seconds, done = bq.run_ceiling({url!r}, 1, {concurrency}); print(seconds, done)"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    seconds, done = out.stdout.split()[-2:]
    return int(done) / float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/cm_peers_bench")
    args = parser.parse_args()

    python = peers_python()
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(PEER_DRIVER)
        driver = Path(handle.name)
    contenders = {
        "countermand": lambda: run_ours(args.pg_url, args.jobs, args.concurrency),
        "procrastinate": lambda: run_peer(python, driver, "procrastinate", args.pg_url, args.jobs, args.concurrency),
        "pgqueuer": lambda: run_peer(python, driver, "pgqueuer", args.pg_url, args.jobs, args.concurrency),
        "ceiling": lambda: run_ceiling(args.pg_url, args.jobs, args.concurrency),
    }
    names = list(contenders)
    rates: dict[str, list[float]] = {name: [] for name in names}
    print(f"{args.jobs} no-op jobs queued first, one process with {args.concurrency} slots, jobs/s (higher is better)")
    print(f"\n{'round':<6}" + "".join(f"{name:>15}" for name in names))
    try:
        for round_number in range(args.rounds):
            order = names[round_number % len(names) :] + names[: round_number % len(names)]
            for name in order:
                rates[name].append(contenders[name]())
            print(f"{round_number + 1:<6}" + "".join(f"{rates[name][-1]:>15.0f}" for name in names), flush=True)
    finally:
        driver.unlink()
    median = {name: statistics.median(values) for name, values in rates.items()}
    print(f"{'median':<6}" + "".join(f"{median[name]:>15.0f}" for name in names))
    ours = median["countermand"]
    print(
        f"\ncountermand / procrastinate x{ours / median['procrastinate']:.2f}   "
        f"countermand / pgqueuer x{ours / median['pgqueuer']:.2f}   "
        f"countermand / ceiling {ours / median['ceiling']:.0%}"
    )
    per_round = [
        (o / p, o / q) for o, p, q in zip(rates["countermand"], rates["procrastinate"], rates["pgqueuer"], strict=True)
    ]
    print("per round: " + ", ".join(f"x{p:.2f} procrastinate / x{q:.2f} pgqueuer" for p, q in per_round))


if __name__ == "__main__":
    main()
