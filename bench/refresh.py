"""Order history refresh at scale: the product's refresh of N orders from an HTTP ERP, beside a bare bulk insert.

    .venv/bin/python bench/refresh.py [--orders 100000] [--batch-size 100] [--customers 100]
                                      [--pg-url postgres://postgres@127.0.0.1:5432/cm_bench_refresh]
                                      [--only sqlite|postgresql]

A WebService-style ERP runs in this process on 127.0.0.1 (`countermand.integration.testing.FakeHttpErp`):
`GET /erp/orders` answers as countermand/connectors/webservice_refresh.py describes (pages of `pageSize`
for `orderedSince`/`modifiedSince`, `orderNumbers=…` look-ups), holding N orders of `--customers`
customers, two lines each, dated over the last 60 days. For each database (a fresh SQLite file; a fresh
PostgreSQL database, dropped and re-created):

- **import**: a `WebService` connection, an `OrderHistoryRefresh` job definition on it (the product's
  defaults: BatchSize 100, LookBackDays 90) and one queued run with FullRefresh, drained by
  `countermand worker --burst`: every order is read page by page and imported with its lines and its
  Imported event (then the status sweep finds nothing left to ask);
- **re-apply**: the ERP moves every order from `Open` to `Shipped` (a new modification time), and a
  second run (from the first run's watermark) applies the N status changes (each a StatusChanged event
  and a line in the job log);
- **bare insert**: in a second fresh database, the same N orders and 2N lines built from the same rows
  and written with `bulk_create` (1,000 orders per transaction, their lines with them): no HTTP, no
  matching, no events — the ceiling of any import into these tables.

Each refresh's time is its job's, from `started_at` to `finished_at` (the worker's start-up not counted);
orders/s = N / that. Ratios are of the bare insert's rate. The `by CPU` line divides N by CPU seconds
instead (the worker process's, start-up included; the bare insert's own): on a shared, busy host the wall
clock of two runs minutes apart measures the neighbours too, CPU time much less so. `--profile` runs the
two refreshes in-process under cProfile instead of in a worker (slower, for finding the costs) and prints
the top functions.
"""

from __future__ import annotations

import os
import sys

# bench/ holds a queue.py: keep this directory off sys.path so `import queue` finds the standard library.
sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != os.path.dirname(os.path.realpath(__file__))]

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from countermand.integration.testing import FakeHttpErp, FakeRequest  # noqa: E402

STATUSES = ("Open", "Shipped", "Invoiced")  # the status of every order in generation 0, 1, 2 (and after)
WEBSITE = "Bench Store"


# ------------------------------------------------------------------------------------------ the ERP


def erp_order(i: int, *, customers: int, today: datetime.date, status: str) -> dict[str, Any]:
    """Order number `i` as the ERP's JSON has it (the same rows the bare insert writes)."""
    return {
        "webOrderNumber": f"R{i:07d}",
        "erpOrderNumber": f"RE{i:07d}",
        "customerNumber": f"C{1000 + i % customers}",
        "orderDate": (today - datetime.timedelta(days=i % 60)).isoformat(),
        "status": status,
        "cancelled": False,
        "customerPO": f"PO-{i % 5000:04d}",
        "currency": "USD",
        "subtotal": "90.00",
        "taxAmount": "10.00",
        "shippingAmount": "0.00",
        "total": "100.00",
        "orderLines": [
            {
                "lineNumber": 1,
                "productNumber": f"WID-{i % 97}",
                "description": "Widget",
                "quantityOrdered": "2",
                "quantityShipped": "0",
                "unitPrice": "30.00",
                "lineTotal": "60.00",
                "status": "",
            },
            {
                "lineNumber": 2,
                "productNumber": f"GAD-{i % 89}",
                "description": "Gadget",
                "quantityOrdered": "1",
                "quantityShipped": "0",
                "unitPrice": "30.00",
                "lineTotal": "30.00",
                "status": "",
            },
        ],
    }


class OrdersErp(FakeHttpErp):
    """N orders; `POST /erp/bench/next` moves them all to the next status (modified now)."""

    prefix = "/erp"

    def __init__(self, count: int, customers: int) -> None:
        super().__init__()
        self.count = count
        self.customers = customers
        self.today = datetime.datetime.now(datetime.UTC).date()
        self.generation = 0
        self.modified_at = datetime.datetime.now(datetime.UTC)
        self.pages = 0
        self.lookups = 0

    def order(self, i: int) -> dict[str, Any]:
        return erp_order(i, customers=self.customers, today=self.today, status=STATUSES[self.generation])

    def handle(self, request: FakeRequest) -> tuple[int, Any]:
        if request.method == "POST" and request.path == "/erp/bench/next":
            with self.lock:
                self.generation = min(self.generation + 1, len(STATUSES) - 1)
                self.modified_at = datetime.datetime.now(datetime.UTC)
            return 200, {"status": STATUSES[self.generation]}
        if request.method != "GET" or request.path != "/erp/orders":
            return 404, {"message": f"no {request.method} {request.path}"}
        query = request.query
        if "orderNumbers" in query:
            with self.lock:
                self.lookups += 1
            wanted = [n.removeprefix("RE").removeprefix("R") for n in query["orderNumbers"].split(",")]
            found = [int(n) for n in wanted if n.isdigit() and int(n) < self.count]
            return 200, {"orders": [self.order(i) for i in found]}
        if "modifiedSince" in query and datetime.datetime.fromisoformat(query["modifiedSince"]) > self.modified_at:
            return 200, {"orders": []}
        # orderedSince: every order is dated within the last 60 days, inside any look-back of 60 days or more.
        size, page = int(query["pageSize"]), int(query["page"])
        with self.lock:
            self.pages += 1
        first = (page - 1) * size
        return 200, {"orders": [self.order(i) for i in range(first, min(first + size, self.count))]}


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


def shop(customers: int) -> tuple[int, dict[str, int]]:
    """The website, its customers and the status mappings; returns the website id and customer ids."""
    from countermand.customers.models import Customer
    from countermand.orders.models import OrderStatusMapping
    from countermand.websites.models import Website

    website = Website.objects.create(name=WEBSITE)
    Customer.objects.bulk_create(Customer(customer_number=f"C{1000 + i}") for i in range(customers))
    for status in STATUSES:
        OrderStatusMapping.objects.create(erp_order_status=status, display_name=status)
    return website.pk, dict(Customer.objects.values_list("customer_number", "pk"))


def refresh_definition(erp_url: str, batch_size: int) -> Any:
    from countermand.integration.models import IntegrationConnection, JobDefinition, JobDefinitionParameter
    from countermand.integration.services import connection_validate

    connection = IntegrationConnection(name="Bench ERP", type_name="WebService", url=erp_url, timeout_seconds=60)
    connection_validate(connection)
    connection.save()
    definition = JobDefinition.objects.create(
        name="OrderHistoryRefresh",
        job_type=JobDefinition.JobType.REFRESH,
        connection=connection,
        integration_processor="OrderHistoryRefresh",
        max_retries=0,
        timeout_seconds=6 * 3600,
    )
    for sequence, (name, value_type, default) in enumerate(
        (("FullRefresh", "Boolean", ""), ("BatchSize", "Number", str(batch_size))), 1
    ):
        JobDefinitionParameter.objects.create(
            job_definition=definition, sequence=sequence, name=name, value_type=value_type, default_value=default
        )
    return definition


def run_refresh(definition: Any, url: str, *, full: bool, profile: bool) -> dict[str, Any]:
    """One refresh run (a queued job drained by a burst worker); its seconds and its result."""
    from django.db import connection

    from countermand.integration.models import IntegrationJob
    from countermand.integration.services import job_enqueue

    job = job_enqueue(definition=definition, parameters={"FullRefresh": "true" if full else "false"})
    connection.close()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    if profile:
        profiled_worker()
    else:
        env = {**os.environ, "DATABASE_URL": url, "COUNTERMAND_LOG_LEVEL": "WARNING"}
        command = [sys.executable, "-m", "countermand", "worker", "--burst", "--concurrency", "1"]
        subprocess.run(command, env=env, cwd=ROOT, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    job = IntegrationJob.objects.get(pk=job.pk)
    if job.status != IntegrationJob.Status.SUCCESS:
        raise SystemExit(f"the refresh ended {job.status}: {job.error}")
    return {
        "seconds": (job.finished_at - job.started_at).total_seconds(),
        # The worker process's CPU time (its start-up included): a figure a busy host does not inflate.
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "result": job.result,
    }


def profiled_worker() -> None:
    """Run the due jobs in this process under cProfile; print the top functions."""
    import cProfile
    import pstats

    from countermand.integration.testing import run_due_jobs

    profiler = cProfile.Profile()
    profiler.enable()
    run_due_jobs("bench-profile")
    profiler.disable()
    stats = pstats.Stats(profiler, stream=sys.stderr)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)


def measure_refresh(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Runs in a child process configured for `url`; the ERP runs in the parent."""
    import httpx

    django_setup(url)
    shop(args.customers)
    definition = refresh_definition(args.erp_url, args.batch_size)
    imported = run_refresh(definition, url, full=True, profile=args.profile)
    httpx.post(f"{args.erp_url}/bench/next").raise_for_status()
    reapplied = run_refresh(definition, url, full=False, profile=args.profile)
    return {"import": imported, "reapply": reapplied}


def measure_bare(url: str, args: argparse.Namespace) -> dict[str, Any]:
    """Runs in a child process configured for a second fresh database: the bare bulk insert."""
    from decimal import Decimal

    django_setup(url)
    from django.db import transaction

    from countermand.orders.models import Order, OrderLine

    website_id, customers = shop(args.customers)
    today = datetime.datetime.now(datetime.UTC).date()
    started, cpu = time.perf_counter(), time.process_time()
    step = 1000
    for first in range(0, args.orders, step):
        rows = [
            erp_order(i, customers=args.customers, today=today, status=STATUSES[0])
            for i in range(first, min(first + step, args.orders))
        ]
        with transaction.atomic():
            orders = Order.objects.bulk_create(
                Order(
                    web_order_number=row["webOrderNumber"],
                    erp_order_number=row["erpOrderNumber"],
                    website_id=website_id,
                    customer_id=customers[row["customerNumber"]],
                    order_date=datetime.date.fromisoformat(row["orderDate"]),
                    customer_po=row["customerPO"],
                    currency=row["currency"],
                    subtotal=Decimal(row["subtotal"]),
                    tax_amount=Decimal(row["taxAmount"]),
                    shipping_amount=Decimal(row["shippingAmount"]),
                    total=Decimal(row["total"]),
                    status=row["status"],
                )
                for row in rows
            )
            OrderLine.objects.bulk_create(
                OrderLine(
                    order=order,
                    line_number=line["lineNumber"],
                    product_number=line["productNumber"],
                    description=line["description"],
                    quantity_ordered=Decimal(line["quantityOrdered"]),
                    quantity_shipped=Decimal(line["quantityShipped"]),
                    unit_price=Decimal(line["unitPrice"]),
                    line_total=Decimal(line["lineTotal"]),
                    status=line["status"],
                )
                for order, row in zip(orders, rows, strict=True)
                for line in row["orderLines"]
            )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if Order.objects.count() != args.orders or OrderLine.objects.count() != 2 * args.orders:
        raise SystemExit("the bare insert did not write every row")
    return {"seconds": seconds, "cpu": cpu}


# ------------------------------------------------------------------------------------------ driver


def child(mode: str, url: str, args: argparse.Namespace, erp_url: str = "") -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--url",
        url,
        *("--orders", str(args.orders), "--customers", str(args.customers), "--batch-size", str(args.batch_size)),
        *(("--erp-url", erp_url) if erp_url else ()),
        *(("--profile",) if args.profile else ()),
    ]
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=100, help="the refresh's BatchSize (the product's default)")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/cm_bench_refresh")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--profile", action="store_true", help="run the refreshes in-process under cProfile")
    parser.add_argument("--child", choices=["refresh", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--erp-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "refresh":
        print(json.dumps(measure_refresh(args.url, args)))
        return
    if args.child == "bare":
        print(json.dumps(measure_bare(args.url, args)))
        return

    with tempfile.TemporaryDirectory(prefix="countermand-bench-") as tmp:
        targets = {
            "sqlite": (f"sqlite:///{Path(tmp) / 'refresh.sqlite3'}", f"sqlite:///{Path(tmp) / 'bare.sqlite3'}"),
            "postgresql": (args.pg_url, args.pg_url + "_bare"),
        }
        if args.only:
            targets = {args.only: targets[args.only]}
        print(
            f"{args.orders:,} orders x 2 lines from an HTTP ERP, BatchSize {args.batch_size}, "
            f"{args.customers} customers; orders/s (higher is better)\n"
        )
        print(
            f"{'database':<18} {'import':>8} {'re-apply':>9} {'bare insert':>12} "
            f"{'import/bare':>12} {'re-apply/bare':>14}"
        )
        for name, (url, bare_url) in targets.items():
            fresh_database(url)
            with OrdersErp(args.orders, args.customers) as erp:
                ran = child("refresh", url, args, erp.url)
            for run, counter in (("import", "imported"), ("reapply", "status_changes")):
                if ran[run]["result"][counter] != args.orders:
                    raise SystemExit(f"{name}: the {run} run counted {ran[run]['result']}")
            fresh_database(bare_url)
            bare = child("bare", bare_url, args)
            for label, key in (("", "seconds"), ("  by CPU", "cpu")):
                if not bare[key] or not ran["import"][key]:
                    continue
                rates = [args.orders / ran["import"][key], args.orders / ran["reapply"][key]]
                ceiling = args.orders / bare[key]
                print(
                    f"{name + label:<18} {rates[0]:>8.0f} {rates[1]:>9.0f} {ceiling:>12.0f} "
                    f"{rates[0] / ceiling:>12.2f} {rates[1] / ceiling:>14.2f}"
                )


if __name__ == "__main__":
    main()
