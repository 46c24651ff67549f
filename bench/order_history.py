"""Server time of the order history pages for a customer with 1,000,000 orders, on PostgreSQL.

    .venv/bin/python bench/order_history.py [--orders 1000000] [--runs 40] [--server postgres://postgres@127.0.0.1:5432]

Creates a throwaway database (dropped at the end), migrates it, loads the demo data, then COPYs N orders
of customer C1000 on the Demo Store (dates over ~5 years, the demo's status mix) and VACUUM ANALYZEs them —
as autovacuum would keep a production table. Each page is requested in-process through Django's test
client (middleware, session, views, serialisation: the server's whole work, no network) and p50/p95 of
the wall time is printed per page: first, deep (offset 800,000) and filtered, for the REST API and the
storefront. The list uses an indexed OFFSET with a deferred join (countermand/orders/history.py).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bench/queue.py would shadow the standard library's queue module (psycopg imports it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import psycopg  # noqa: E402

STATUSES = ["Submitted", "Open", "Processing", "Shipped", "Shipped", "Invoiced", "Invoiced", "Invoiced", "Cancelled"]


def create_database(server: str, name: str) -> str:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server}/{name}"


def drop_database(server: str, name: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def copy_orders(url: str, count: int, website_id: int, customer_id: int) -> float:
    """COPY `count` orders into orders_order; returns the seconds it took (VACUUM ANALYZE included)."""
    start = time.perf_counter()
    today = datetime.date(2026, 6, 1)
    now = datetime.datetime.now(datetime.UTC)
    per_day = max(1, count // 1826)
    columns = (
        "web_order_number, erp_order_number, website_id, customer_id, order_date, customer_po, currency, "
        "subtotal, tax_amount, shipping_amount, total, status, created_at, updated_at"
    )
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.cursor() as cursor, cursor.copy(f"COPY orders_order ({columns}) FROM STDIN") as copy:
            for i in range(count):
                copy.write_row(
                    (
                        f"H{i:08d}",
                        f"HE{i:08d}",
                        website_id,
                        customer_id,
                        today - datetime.timedelta(days=i // per_day),
                        f"PO-{i % 50000:05d}",
                        "USD",
                        "25.30",
                        "0",
                        "0",
                        "25.30",
                        STATUSES[i % len(STATUSES)],
                        now,
                        now,
                    )
                )
        conn.execute("VACUUM ANALYZE orders_order")
    return time.perf_counter() - start


def measure(client, url: str, runs: int) -> tuple[float, float, int]:
    """p50 and p95 in milliseconds of `runs` requests (after two warm-up requests), and the status."""
    for _ in range(2):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)], response.status_code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--keep", action="store_true", help="keep the database (to EXPLAIN queries by hand)")
    args = parser.parse_args()

    name = f"cm_bench_order_history_{os.getpid()}"
    url = create_database(args.server, name)
    try:
        os.environ.update(
            DATABASE_URL=url,
            COUNTERMAND_ALLOWED_HOSTS="testserver",
            DJANGO_SETTINGS_MODULE="countermand.project.settings",
        )
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.test import Client

        from countermand.customers.models import Customer
        from countermand.demo import demo_load
        from countermand.websites.models import Website

        call_command("migrate", verbosity=0)
        demo_load()
        store = Website.objects.get(name="Demo Store")
        customer = Customer.objects.get(customer_number="C1000")
        seconds = copy_orders(url, args.orders, store.pk, customer.pk)
        print(f"{args.orders:,} orders of C1000 on {store.name} loaded in {seconds:.1f} s (COPY + VACUUM ANALYZE)")

        client = Client()
        client.force_login(get_user_model().objects.get(username="buyer@example.com"))
        deep_api = 800_000 // 20 + 1
        deep_storefront = 800_000 // 20 + 1
        pages = [
            ("API, first page", "/api/v1/orders?pageSize=20"),
            ("API, deep page (offset 800,000)", f"/api/v1/orders?pageSize=20&page={deep_api}"),
            ("API, filtered (Shipped, 2024-)", "/api/v1/orders?pageSize=20&status=Shipped&fromDate=2024-01-01&page=50"),
            ("API, first page, websiteId", f"/api/v1/orders?pageSize=20&websiteId={store.pk}"),
            ("Storefront, first page", "/orders/"),
            ("Storefront, deep page (offset 800,000)", f"/orders/?page={deep_storefront}"),
            ("Storefront, filtered (Shipped, 2024-)", "/orders/?status=Shipped&from_date=2024-01-01&page=50"),
        ]
        print(f"server time per page, {args.runs} requests each (PostgreSQL {postgres_version(url)})")
        print(f"{'page':44} {'p50 ms':>8} {'p95 ms':>8}")
        for label, path in pages:
            p50, p95, _ = measure(client, path, args.runs)
            print(f"{label:44} {p50:8.1f} {p95:8.1f}")
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept database {url}")
        else:
            drop_database(args.server, name)
    return 0


def postgres_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


if __name__ == "__main__":
    sys.exit(main())
