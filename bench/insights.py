"""Server time of the console's Cancellation insights page with 1,000,000 orders, on SQLite and PostgreSQL.

    .venv/bin/python bench/insights.py [--orders 1000000] [--runs 10] [--only sqlite|postgresql]
                                       [--pg-url postgres://postgres@127.0.0.1:5432/cm_insights_bench]

For each database: a fresh one, migrated, the demo data, then N orders made by one INSERT … SELECT over a
generated series (bulk SQL: a recursive CTE on SQLite, generate_series on PostgreSQL), every tenth with a
cancellation request (70 % confirmed, 10 % denied, 5 % each not sent to the ERP, failed, sent, requested)
made over the last 365 days, and one OrderCancel job per request sent to the ERP, on one of two
connections, answered 1 to 60 s later (one in 97 after ten minutes). Then ANALYZE (VACUUM ANALYZE on PostgreSQL).

The page is requested in-process through Django's test client (middleware, session, view, queries,
template: the server's whole work, no network), signed in as a superuser; p50 and p95 of `--runs`
requests after one warm-up. Beside each: a bare `SELECT COUNT(*)` over the same cancellation requests (the
date range, and the website's orders when filtered), and the page's ratio to it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bench/queue.py would shadow the standard library's queue module (psycopg imports it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

STATES = ["Confirmed"] * 14 + ["Denied"] * 2 + ["LocalOnly", "Failed", "Sent", "Requested"]

# One INSERT … SELECT per table over the series 1…N; {series} is the vendor's, {day}/{seconds} its date maths.
ORDERS_SQL = """
INSERT INTO orders_order (web_order_number, erp_order_number, website_id, customer_id, order_date, customer_po,
    currency, subtotal, tax_amount, shipping_amount, total, status, created_at, updated_at)
SELECT 'B' || i, NULL, CASE WHEN i % 4 = 0 THEN {counter} ELSE {store} END, {customer}, {order_date}, '', 'USD',
    25.30, 0, 0, 25.30, 'Shipped', {now}, {now}
FROM {series}
"""
# Every tenth order has a request; requests not "not sent to the ERP" (state index 16) have a job, id = order id.
JOBS_SQL = """
INSERT INTO integration_integrationjob (id, definition_id, connection_id, order_id, status, schedule_at, attempt,
    max_attempts, lease_owner, idempotency_key, handler, result, error, record_count, warning_count, error_count,
    cancel_requested, created_at)
SELECT o.id, {definition}, CASE WHEN o.id % 20 < 10 THEN {sandbox} ELSE {tryton} END, o.id, 'Success', {created},
    1, 5, '', 'bench-' || o.id, 'OrderCancel', '{{}}', '', 0, 0, 0, {false}, {created}
FROM orders_order o WHERE o.web_order_number LIKE 'B%' AND o.id % 10 = 0 AND (o.id / 10) % 20 <> 16
"""
REQUESTS_SQL = """
INSERT INTO cancellations_cancellationrequest (order_id, website_id, channel, reason_code, reason_text, forced,
    previous_status, state, erp_message, erp_reference, idempotency_key, job_id, send_count, created_at, updated_at,
    resolved_at)
SELECT o.id, o.website_id, 'storefront', {reason}, '', {false}, 'Submitted', {state}, '', '', 'bench-' || o.id,
    CASE WHEN (o.id / 10) % 20 = 16 THEN NULL ELSE o.id END, 1, {created}, {created},
    CASE WHEN (o.id / 10) % 20 < 16 THEN {answered} WHEN (o.id / 10) % 20 = 16 THEN {created} ELSE NULL END
FROM orders_order o WHERE o.web_order_number LIKE 'B%' AND o.id % 10 = 0
"""
ANSWER_SECONDS = "(1 + o.id % 60 + CASE WHEN o.id % 97 = 0 THEN 600 ELSE 0 END)"
REASONS = ["Ordered by mistake", "Found it cheaper", "Delivery too slow", "Wrong item", "No longer needed", "Other"]


def _case(expression: str, values: list[str]) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE {expression} {whens} END"


def _vendor_sql(vendor: str, count: int) -> dict[str, str]:
    # A request's age: scattered over 365 days (a prime stride), and over the seconds of the day.
    if vendor == "sqlite":
        created = "datetime('now', '-' || ((o.id * 7919) % 365) || ' days', '-' || (o.id % 86400) || ' seconds')"
        numbers = f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})"
        return {
            "series": f"({numbers} SELECT i FROM n)",
            "order_date": "date('now', '-' || (i % 730) || ' days')",
            "now": "datetime('now')",
            "created": created,
            "answered": f"datetime({created}, '+' || {ANSWER_SECONDS} || ' seconds')",
            "false": "0",
        }
    created = "(now() - ((o.id * 7919) % 365) * interval '1 day' - (o.id % 86400) * interval '1 second')"
    return {
        "series": f"generate_series(1, {count}) AS s(i)",
        "order_date": "(current_date - (i % 730))",
        "now": "now()",
        "created": created,
        "answered": f"({created} + {ANSWER_SECONDS} * interval '1 second')",
        "false": "false",
    }


def load(count: int) -> dict[str, float]:
    """The demo data, then `count` orders with their requests and jobs in three statements; seconds each."""
    from django.db import connection

    from countermand.customers.models import Customer
    from countermand.demo import demo_load
    from countermand.integration.models import IntegrationConnection, JobDefinition
    from countermand.websites.models import Website

    demo_load()
    tryton = IntegrationConnection.objects.create(name="Tryton", type_name="Tryton", url="http://127.0.0.1:8000/")
    ids = {
        "store": Website.objects.get(name="Demo Store").pk,
        "counter": Website.objects.get(name="Trade Counter").pk,
        "customer": Customer.objects.get(customer_number="C1000").pk,
        "definition": JobDefinition.objects.get(name="OrderCancel").pk,
        "sandbox": IntegrationConnection.objects.get(name="Sandbox ERP").pk,
        "tryton": tryton.pk,
    }
    sql = _vendor_sql(connection.vendor, count)
    state = _case("(o.id / 10) % 20", STATES)
    reason = _case(f"(o.id / 10) % {len(REASONS)}", REASONS)
    seconds: dict[str, float] = {}
    with connection.cursor() as cursor:
        for name, statement in (
            ("orders", ORDERS_SQL.format(**sql, **ids)),
            ("jobs", JOBS_SQL.format(**sql, **ids)),
            ("requests", REQUESTS_SQL.format(**sql, **ids, state=state, reason=reason)),
        ):
            start = time.perf_counter()
            cursor.execute(statement)
            seconds[name] = time.perf_counter() - start
        start = time.perf_counter()
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('integration_integrationjob', 'id'), "
                "(SELECT max(id) FROM integration_integrationjob))"
            )
            for table in ("orders_order", "integration_integrationjob", "cancellations_cancellationrequest"):
                cursor.execute(f"VACUUM ANALYZE {table}")  # as autovacuum keeps a production table
        else:
            cursor.execute("ANALYZE")
        seconds["analyze"] = time.perf_counter() - start
    return seconds


def timed(fn, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, round(len(times) * 0.95) - 1)]


def measure(url: str, count: int, runs: int) -> dict[str, object]:
    """In a child process (Django is set up once per database): load, then time the page and the COUNT(*)."""
    os.environ.update(
        DATABASE_URL=url, COUNTERMAND_ALLOWED_HOSTS="testserver", DJANGO_SETTINGS_MODULE="countermand.project.settings"
    )
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from countermand.cancellations.insights import InsightsQuery, insights_default_query, insights_requests
    from countermand.cancellations.models import CancellationRequest
    from countermand.orders.models import Order
    from countermand.websites.models import Website

    seconds = load(count)
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", None)
    client = Client()
    client.force_login(user)
    store = Website.objects.get(name="Demo Store").pk
    month = insights_default_query(days=30)
    year = insights_default_query(days=365)
    cases = [
        ("last 30 days, all websites", month, {}),
        ("last 365 days, all websites", year, {"date_from": year.date_from.isoformat()}),
        (
            "last 365 days, Demo Store",
            InsightsQuery(year.date_from, year.date_to, store),
            {"date_from": year.date_from.isoformat(), "website": store},
        ),
    ]
    rows = []
    for label, query, params in cases:
        response = client.get("/admin/sales/insights/", params)
        assert response.status_code == 200, response.status_code
        requests = insights_requests(query)
        page = timed(lambda params=params: client.get("/admin/sales/insights/", params), runs)
        counted = timed(lambda requests=requests: requests.count(), runs)
        rows.append({"case": label, "requests": requests.count(), "page": page, "count": counted})
    return {
        "vendor": connection.vendor,
        "version": str(getattr(connection, "pg_version", "")),
        "orders": Order.objects.count(),
        "requests": CancellationRequest.objects.count(),
        "load": seconds,
        "rows": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/cm_insights_bench")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child process: one database URL
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.orders, args.runs)))
        return 0

    from countermand.devtools.databases import database_fresh, database_recreate

    with tempfile.TemporaryDirectory() as tmp:
        urls = {"sqlite": f"sqlite:///{tmp}/insights.db", "postgresql": args.pg_url}
        for vendor, url in urls.items():
            if args.only and vendor != args.only:
                continue
            database_fresh(url)
            try:
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--measure",
                        url,
                        "--orders",
                        str(args.orders),
                        "--runs",
                        str(args.runs),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                    env={**os.environ, "PYTHONPATH": str(ROOT)},
                ).stdout
            finally:
                if vendor == "postgresql":
                    database_recreate(url)  # leave it empty, not 1,000,000 orders big
            result = json.loads(out.strip().splitlines()[-1])
            report(result, args.runs)
    return 0


def report(result: dict, runs: int) -> None:  # type: ignore[type-arg]
    load = ", ".join(f"{k} {v:.1f} s" for k, v in result["load"].items())
    version = f" {result['version']}" if result["version"] else ""
    counts = f"{result['orders']:,} orders, {result['requests']:,} cancellation requests"
    print(f"\n{result['vendor']}{version}: {counts} ({load})")
    print(f"insights page server time, {runs} requests each (ms; lower is better)")
    print(f"{'range':30} {'requests':>9} {'page p50':>9} {'page p95':>9} {'COUNT(*) p50':>13} {'ratio':>7}")
    for row in result["rows"]:
        (p50, p95), (c50, _) = row["page"], row["count"]
        ratio = p50 / c50 if c50 else float("inf")
        print(f"{row['case']:30} {row['requests']:9,} {p50:9.1f} {p95:9.1f} {c50:13.1f} {ratio:6.1f}x")


if __name__ == "__main__":
    sys.exit(main())
