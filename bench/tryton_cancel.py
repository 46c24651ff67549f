"""Latency from a buyer's cancel request to the sale being `cancelled` in a real Tryton, through a real worker.

    .venv/bin/python bench/tryton_cancel.py [--orders 50] [--database-url postgres://postgres@127.0.0.1:5432/cm_bench_tryton]
                                            [--poll-seconds S]

Builds a Tryton 8.2 database (countermand/devtools/tryton_server.py, ~25 s), starts `trytond` on 127.0.0.1,
creates N sales in `quotation` and our N orders for them, and runs one `countermand worker` process (the
product's defaults: on SQLite it polls every 0.5 s, on PostgreSQL LISTEN/NOTIFY wakes it). Then, measured side by side:

- **end to end, one at a time**: for each order, `order_cancel_request` (the storefront's service: checks,
  the request, the job row, one commit) — t0 — then Tryton is polled (every 5 ms, from this process) until
  the sale reads `cancelled` — t1. Latency = t1 - t0: queue wake-up, claim, lookup + cancel over
  JSON-RPC, outcome. Requests are spaced by a random pause (0.05-1 s), so each meets an idle worker at a
  random moment of its poll cycle;
- **end to end, all at once**: N requests committed back to back, each measured the same way (what a
  burst of cancellations costs, with the worker's concurrency);
- **floor**: what the processor itself sends — `search_read` by number + `cancel` — timed by a
  `TrytonClient` in this process, for N other sales. No Countermand in the way.

Prints p50/p95/max of each and the ratio of the end-to-end p50 to the floor's.
"""

from __future__ import annotations

import os
import sys

# bench/ holds a queue.py: keep this directory off sys.path so `import queue` finds the standard library.
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != os.path.dirname(os.path.realpath(__file__))]

import argparse  # noqa: E402
import atexit  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary(values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"p50 {percentile(ms, 50):7.1f} ms   p95 {percentile(ms, 95):7.1f} ms   max {max(ms):7.1f} ms"
        f"   mean {statistics.fmean(ms):7.1f} ms"
    )


def fresh_database(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme.startswith("postgres"):
        import psycopg

        name = parsed.path.lstrip("/")
        with psycopg.connect(url.replace(parsed.path, "/postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "-m", "countermand", "manage", "migrate", "-v0"], env=env, check=True, cwd=ROOT)


def setup_shop(server):  # type: ignore[no-untyped-def]
    """Countermand set up as the guide says, its ERP the Tryton server; returns the buyer (an Actor)."""
    from django.contrib.auth import get_user_model

    from countermand.customers.models import BuyerAccount, Customer
    from countermand.integration.models import IntegrationConnection, JobDefinition, JobDefinitionParameter
    from countermand.integration.services import connection_validate
    from countermand.orders.models import OrderStatusMapping
    from countermand.orders.policies import BUYER, Actor
    from countermand.settings.services import setting_set
    from countermand.websites.models import Website

    website = Website.objects.create(name="Bench Store")
    setting_set(name="OrderCancelStatuses", value=["quotation"])
    setting_set(name="AllowCancellationRequest", value=True, website=website)
    OrderStatusMapping.objects.create(erp_order_status="quotation", display_name="Quotation", allow_cancellation=True)
    user = get_user_model().objects.create_user("bench@example.com", "bench@example.com", "bench-pass-1")
    account = BuyerAccount.objects.create(user=user, customer=Customer.objects.create(customer_number="C1000"))
    account.websites.add(website)
    connection = IntegrationConnection(
        name="Tryton",
        type_name="Tryton",
        url=server.url,
        log_on=server.login,
        timeout_seconds=10,
        options={"database": server.database},
        max_concurrent_jobs=8,
    )
    connection.set_password(server.password)
    connection_validate(connection)
    connection.save()
    definition = JobDefinition.objects.create(
        name="OrderCancel", connection=connection, integration_processor="TrytonOrderCancel", retry_backoff_seconds=1
    )
    JobDefinitionParameter.objects.create(job_definition=definition, name="OrderNumber")
    return Actor(kind=BUYER, user_id=user.pk, customer_id=account.customer_id, website_ids=frozenset({website.pk}))


def orders_with_sales(server, actor, count: int):  # type: ignore[no-untyped-def]
    """`count` quotation sales in Tryton and the buyer's orders for them: [(order, sale)]."""
    from countermand.orders.models import Order

    pairs = []
    for _ in range(count):
        sale = server.create_sale("quotation")
        order = Order.objects.create(
            web_order_number=sale["reference"],
            erp_order_number=sale["number"],
            website_id=next(iter(actor.website_ids)),
            customer_id=actor.customer_id,
            order_date=time.strftime("%Y-%m-%d"),
            status="quotation",
        )
        pairs.append((order, sale))
    return pairs


class CancelWatcher:
    """Polls Tryton every few ms and records when each watched sale first reads `cancelled`."""

    def __init__(self, client, interval: float = 0.005) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.interval = interval
        self.watched: set[int] = set()
        self.seen: dict[int, float] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, sale_id: int) -> None:
        with self.lock:
            self.watched.add(sale_id)

    def _run(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                pending = sorted(self.watched - set(self.seen))
            if pending:
                for sale in self.client.sales_read(pending, ["state"]):
                    if sale["state"] == "cancelled":
                        with self.lock:
                            self.seen.setdefault(sale["id"], time.perf_counter())
            time.sleep(self.interval)

    def wait(self, sale_ids: list[int], timeout: float = 60) -> None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            with self.lock:
                if all(s in self.seen for s in sale_ids):
                    return
            time.sleep(0.002)
        raise SystemExit(f"sales {sale_ids} were not cancelled within {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary folder")
    parser.add_argument("--poll-seconds", type=float, help="the worker's poll interval (default: the product's)")
    args = parser.parse_args()

    from countermand.devtools.tryton_server import TrytonServer, build_template

    with tempfile.TemporaryDirectory(prefix="bench-tryton-") as tmp:
        tmpdir = Path(tmp)
        url = args.database_url or f"sqlite:///{tmpdir / 'countermand.db'}"
        print(f"database: {url.split('@')[-1]}; building the Tryton database …", flush=True)
        started = time.perf_counter()
        template = build_template(tmpdir / "template")
        server = TrytonServer(template, tmpdir / "server")
        server.start()
        atexit.register(server.close)  # stop trytond however the run ends
        print(f"Tryton ready in {time.perf_counter() - started:.1f} s at {server.url}", flush=True)
        fresh_database(url)
        os.environ["DATABASE_URL"] = url
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "countermand.project.settings")
        import django

        django.setup()
        from countermand.cancellations.services import order_cancel_request
        from countermand.integration.models import IntegrationJob

        actor = setup_shop(server)
        sequential = orders_with_sales(server, actor, args.orders)
        burst = orders_with_sales(server, actor, args.orders)
        floor_sales = [server.create_sale("quotation") for _ in range(args.orders)]

        env = {
            **os.environ,
            "DATABASE_URL": url,
            "COUNTERMAND_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "COUNTERMAND_LOG_LEVEL": "WARNING",
        }
        if args.poll_seconds:
            env["COUNTERMAND_WORKER_POLL_SECONDS"] = str(args.poll_seconds)
        log = (tmpdir / "worker.log").open("w")
        worker = subprocess.Popen(
            [sys.executable, "-m", "countermand", "worker", "--worker-id", "bench"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        watcher = CancelWatcher(server.client(timeout=10))
        watcher.thread.start()
        try:
            time.sleep(2.0)  # the worker's start-up is not part of a cancellation
            one_at_a_time = []
            for order, sale in sequential:
                watcher.watch(sale["id"])
                t0 = time.perf_counter()
                order_cancel_request(order=order, actor=actor, channel="storefront", reason_code="Other")
                watcher.wait([sale["id"]])
                one_at_a_time.append(watcher.seen[sale["id"]] - t0)
                # A random pause: requests arrive at any moment of the worker's poll cycle, as buyers' do.
                time.sleep(random.uniform(0.05, 1.0))

            requested: dict[int, float] = {}
            for order, sale in burst:
                watcher.watch(sale["id"])
                requested[sale["id"]] = time.perf_counter()
                order_cancel_request(order=order, actor=actor, channel="storefront", reason_code="Other")
            watcher.wait(list(requested), timeout=120)
            all_at_once = [watcher.seen[s] - t for s, t in requested.items()]
        finally:
            watcher.stop.set()
            worker.terminate()
            worker.wait(timeout=30)
            log.close()

        failed = IntegrationJob.objects.exclude(status="Success").count()
        client = server.client(timeout=10)
        client.login()
        floor = []
        for sale in floor_sales:
            t0 = time.perf_counter()
            (found,) = client.sales_search([("number", "=", sale["number"])], ["id", "state"], 0, 2)
            client.sale_cancel(found["id"])
            floor.append(time.perf_counter() - t0)
        server.close()

    print()
    print(f"cancel request → sale cancelled in Tryton, {args.orders} orders each ({failed} job(s) not Success):")
    print(f"  end to end, one at a time   {summary(one_at_a_time)}")
    print(f"  end to end, all at once     {summary(all_at_once)}")
    print(f"  floor (search + cancel RPC) {summary(floor)}")
    print(f"  ratio end-to-end p50 / floor p50: {percentile(one_at_a_time, 50) / percentile(floor, 50):.1f}x")


if __name__ == "__main__":
    main()
